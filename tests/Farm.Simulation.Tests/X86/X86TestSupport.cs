using Farm.Simulation.X86;
using Iced.Intel;
using Xunit;

namespace Farm.Simulation.Tests.X86;

/// <summary>Assembles a routine with Iced at a given origin.</summary>
internal static class Asm
{
    public static byte[] Build(int bitness, Action<Assembler> emit, ulong origin = 0)
    {
        var a = new Assembler(bitness);
        emit(a);
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), origin);
        return stream.ToArray();
    }

    public static Instruction Decode(int bitness, byte[] bytes, ulong ip = 0) =>
        Decoder.Create(bitness, new ByteArrayCodeReader(bytes), ip).Decode();
}

/// <summary>A gate that refuses writes to a set of frames (mutable between runs).</summary>
internal sealed class FrameGate : IWriteGate
{
    public HashSet<ulong> Protected { get; } = [];
    public int Queries { get; private set; }

    public FrameGate(params ulong[] protectedFrames)
    {
        foreach (var f in protectedFrames) Protected.Add(f);
    }

    public bool CanWrite(ulong gfn)
    {
        Queries++;
        return !Protected.Contains(gfn);
    }
}

/// <summary>Records what the emulator wrote on KVM's behalf.</summary>
internal sealed class RecordingSink : IEmulatedWriteSink
{
    public List<(ulong Address, int Size, ulong Value)> Writes { get; } = [];

    public void OnEmulatedWrite(ulong address, int size, ulong value) => Writes.Add((address, size, value));
}

/// <summary>
/// A small guest: 1 MiB of memory, code at <see cref="CodeBase"/>, the stack below
/// <see cref="StackTop"/>, data from <see cref="DataBase"/>, and a frame gate.
/// </summary>
internal sealed class Machine
{
    public const ulong CodeBase = 0x1000;
    public const ulong StackTop = 0xf000;
    public const ulong DataBase = 0x20000;
    public const ulong MemorySize = 1 << 20;

    public Machine(int bitness = 64, ulong memorySize = MemorySize)
    {
        Memory = new GuestMemory(memorySize);
        Cpu = new GuestCpu(bitness);
        Gate = new FrameGate();
        Interpreter = new Interpreter(Cpu, Memory, Gate);
        Cpu.Rsp = StackTop;
    }

    public GuestMemory Memory { get; }
    public GuestCpu Cpu { get; }
    public FrameGate Gate { get; }
    public Interpreter Interpreter { get; }
    public int Bitness => Cpu.Bitness;

    /// <summary>Assembles <paramref name="emit"/> at <see cref="CodeBase"/> and loads it.</summary>
    public ulong Load(Action<Assembler> emit, ulong at = CodeBase) => Load(Asm.Build(Bitness, emit, at), at);

    /// <summary>Writes code and drops whatever the code cache decoded from those frames.</summary>
    public ulong Load(byte[] bytes, ulong at = CodeBase)
    {
        Memory.WriteBytes(at, bytes);
        for (ulong gfn = at >> GuestMemory.PageShift; gfn <= (at + (ulong)bytes.Length - 1) >> GuestMemory.PageShift; gfn++)
            Interpreter.Code.Invalidate(gfn);
        return at;
    }

    /// <summary>Loads and calls the code; asserts it returned.</summary>
    public ExecutionResult Run(Action<Assembler> emit, params ulong[] args)
    {
        ulong entry = Load(emit);
        var result = Interpreter.Call(entry, args);
        Assert.True(result.IsCompleted, Describe(result));
        return result;
    }

    public ExecutionResult Call(ulong entry, params ulong[] args) => Interpreter.Call(entry, args);

    public void Protect(ulong address) => Gate.Protected.Add(address >> GuestMemory.PageShift);
    public void Unprotect(ulong address) => Gate.Protected.Remove(address >> GuestMemory.PageShift);

    public ulong Read(ulong address, int size = 8) => Memory.Read(address, size);
    public void Write(ulong address, ulong value, int size = 8) => Memory.Write(address, size, value);

    public byte[] ReadBytes(ulong address, int length)
    {
        var bytes = new byte[length];
        Memory.ReadBytes(address, bytes);
        return bytes;
    }

    public bool Flag(ulong flag) => (Cpu.Rflags & flag) != 0;

    public static string Describe(ExecutionResult r) => r.Status switch
    {
        ExecutionStatus.Error => $"Error: {r.Error}",
        ExecutionStatus.WriteFault => $"WriteFault at 0x{r.Fault.Address:x} size {r.Fault.Size} in {r.Fault.Instruction}",
        _ => r.Status.ToString(),
    };
}
