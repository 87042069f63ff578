using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Farm.Simulation.X86.Internal.Handlers;

/// <summary>One small sealed handler per instruction family, indexed by mnemonic.</summary>
internal abstract class OpHandler
{
    /// <summary>Executes <paramref name="ins"/>; false when a write was refused and the
    /// instruction did not retire (registers and flags are untouched by that element).</summary>
    public abstract bool Execute(Interpreter it, in Instruction ins);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static void SetArithFlags(Interpreter it, ulong flags) =>
        it.Cpu.Rflags = (it.Cpu.Rflags & ~Flags.Arith) | flags;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static bool Next(Interpreter it, in Instruction ins)
    {
        it.Cpu.Rip = ins.NextIP;
        return true;
    }
}

internal sealed class UnsupportedHandler : OpHandler
{
    public static readonly UnsupportedHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        GuestCodeException.Throw("unsupported", $"unsupported instruction '{Interpreter.Format(ins)}'");
        return false;
    }
}

internal sealed class NopHandler : OpHandler
{
    public static readonly NopHandler Instance = new();
    public override bool Execute(Interpreter it, in Instruction ins) => Next(it, ins);
}
