using Iced.Intel;

namespace Farm.Simulation.X86;

public enum ExecutionStatus
{
    /// <summary>The routine returned to its caller.</summary>
    Completed,
    /// <summary>A write was refused by the gate; the instruction did not retire (see <see cref="WriteFault"/>).</summary>
    WriteFault,
    /// <summary>Unsupported or invalid instruction, bad access, or budget exhausted (see <see cref="GuestCodeError"/>).</summary>
    Error,
}

/// <summary>
/// A refused guest write: everything the simulated KVM needs to emulate or retry the
/// instruction. Registers are as they were before the faulting element, and RIP still
/// points at the instruction, as on hardware; for a <c>rep</c> form, RCX/RDI/RSI reflect the
/// elements already done, so emulation can resume mid-instruction.
/// </summary>
public readonly record struct WriteFault(
    ulong Address,
    int Size,
    ulong Value,
    ulong Rip,
    Instruction Instruction,
    long ElementIndex)
{
    public ulong Gfn => Address >> GuestMemory.PageShift;
    public InstructionClass Class => InstructionClass.Of(Instruction);
}

/// <summary>Why guest code could not go on: names the instruction, its bytes and its address.</summary>
public sealed record GuestCodeError(string Kind, string Message, ulong Rip, string InstructionText, string Bytes)
{
    public override string ToString() => Message;
}

public readonly record struct ExecutionResult(
    ExecutionStatus Status,
    long Instructions,
    WriteFault Fault,
    GuestCodeError? Error)
{
    public bool IsCompleted => Status == ExecutionStatus.Completed;
}

/// <summary>Thrown inside the interpreter for anything guest code cannot do; caught at the
/// <see cref="Interpreter"/> boundary and turned into an <see cref="ExecutionStatus.Error"/> result.</summary>
internal sealed class GuestCodeException(string kind, string message) : Exception(message)
{
    public string Kind { get; } = kind;

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static void Throw(string kind, string message) => throw new GuestCodeException(kind, message);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static int ThrowInt(string kind, string message) => throw new GuestCodeException(kind, message);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static ulong ThrowULong(string kind, string message) => throw new GuestCodeException(kind, message);
}

