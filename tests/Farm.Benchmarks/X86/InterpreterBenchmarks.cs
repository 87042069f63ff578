using BenchmarkDotNet.Attributes;
using Farm.Simulation.GuestCode;
using Farm.Simulation.X86;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Farm.Benchmarks.X86;

/// <summary>A gate that lets every write through, as for a vCPU whose view maps everything writable.</summary>
internal sealed class AllowAllGate : IWriteGate
{
    public bool CanWrite(ulong gfn) => true;
}

internal sealed class OpsPerSecondConfig : BenchmarkDotNet.Configs.ManualConfig
{
    public OpsPerSecondConfig()
    {
        AddColumn(BenchmarkDotNet.Columns.StatisticColumn.OperationsPerSecond);
        AddColumn(new RateColumn("instructions/s",
            "instructions the routine retires in one call (counted by the interpreter) per second", InstructionsPerOperation));
    }

    /// <summary>The interpreter's retired count of one call, per BenchmarkDotNet operation
    /// (a call is OperationsPerInvoke operations), so the column is retired instructions / call time.</summary>
    private static double InstructionsPerOperation(BenchmarkDotNet.Running.BenchmarkCase c)
    {
        var bench = new InstructionThroughputBenchmarks();
        bench.Setup();
        var result = (ExecutionResult)c.Descriptor.WorkloadMethod.Invoke(bench, null)!;
        return (double)result.Instructions / c.Descriptor.OperationsPerInvoke;
    }
}

internal static class GuestSetup
{
    public const ulong Code = 0x1000;
    public const ulong StackTop = 0xf000;

    public static byte[] Assemble(Action<Assembler> emit, ulong origin = Code)
    {
        var a = new Assembler(64);
        emit(a);
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), origin);
        return stream.ToArray();
    }

    public static void Check(ExecutionResult r)
    {
        if (!r.IsCompleted) throw new InvalidOperationException($"benchmark routine did not complete: {r.Status} {r.Error}");
    }
}

/// <summary>
/// Interpreted instructions per second on cached code: BenchmarkDotNet reports the time per
/// instruction (OperationsPerInvoke), so 1 / Mean, the Op/s column, is the instruction rate;
/// the instructions/s column divides the interpreter's own retired count by the call time
/// (issue 18's target: at least 100M per second on the straight-line and loop benchmarks).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(OpsPerSecondConfig))]
public class InstructionThroughputBenchmarks
{
    private const int StraightLine = 1000;  // ALU/mov instructions, then ret
    private const int LoopIterations = 1000; // 5 instructions per iteration

    private Interpreter _straight = null!, _loop = null!, _memory = null!;

    [GlobalSetup]
    public void Setup()
    {
        _straight = Build(StraightLine + 1, a =>
        {
            var regs = new[] { rax, rbx, rdx, rsi, rdi, r8, r9, r10, r11 };
            var rng = new Random(1);
            for (int i = 0; i < StraightLine; i++)
            {
                var x = regs[rng.Next(regs.Length)];
                var y = regs[rng.Next(regs.Length)];
                switch (i % 8)
                {
                    case 0: a.add(x, y); break;
                    case 1: a.mov(x, y); break;
                    case 2: a.xor(x, y); break;
                    case 3: a.sub(x, 7); break;
                    case 4: a.and(x, y); break;
                    case 5: a.lea(x, __[y + 8]); break;
                    case 6: a.shl(x, 3); break;
                    default: a.cmp(x, y); break;
                }
            }
            a.ret();
        });
        _loop = Build(LoopIterations * 5 + 2, a =>
        {
            var top = a.CreateLabel();
            a.mov(ecx, LoopIterations);
            a.Label(ref top);
            a.add(rax, rcx);
            a.xor(rdx, rax);
            a.shr(rdx, 1);
            a.dec(ecx);
            a.jne(top);
            a.ret();
        });
        // Loads and stores to a data page: the memory operand path with the gate.
        _memory = Build(LoopIterations * 5 + 3, a =>
        {
            var top = a.CreateLabel();
            a.mov(ecx, LoopIterations);
            a.mov(rdi, 0x20000);
            a.Label(ref top);
            a.mov(rax, __qword_ptr[rdi + 8]);
            a.add(rax, rcx);
            a.mov(__qword_ptr[rdi + 8], rax);
            a.dec(ecx);
            a.jne(top);
            a.ret();
        });
    }

    /// <summary>Loads and runs the routine once (its code stays decoded), checking that it retires
    /// the <paramref name="instructions"/> its benchmark's OperationsPerInvoke counts.</summary>
    private static Interpreter Build(int instructions, Action<Assembler> emit)
    {
        var memory = new GuestMemory(1 << 20);
        memory.WriteBytes(GuestSetup.Code, GuestSetup.Assemble(emit));
        var cpu = new GuestCpu(64) { Rsp = GuestSetup.StackTop };
        var it = new Interpreter(cpu, memory, new AllowAllGate());
        var result = it.Call(GuestSetup.Code, [], 1_000_000);
        GuestSetup.Check(result);
        if (result.Instructions != instructions)
            throw new InvalidOperationException($"benchmark routine retired {result.Instructions} instructions, OperationsPerInvoke says {instructions}");
        return it;
    }

    private static ExecutionResult Run(Interpreter it)
    {
        it.Cpu.Rsp = GuestSetup.StackTop;
        return it.Call(GuestSetup.Code, [], 1_000_000);
    }

    [Benchmark(OperationsPerInvoke = StraightLine + 1)]
    public ExecutionResult StraightLineAlu() => Run(_straight);

    [Benchmark(OperationsPerInvoke = LoopIterations * 5 + 2)]
    public ExecutionResult TightLoop() => Run(_loop);

    [Benchmark(OperationsPerInvoke = LoopIterations * 5 + 3)]
    public ExecutionResult LoadAddStoreLoop() => Run(_memory);
}

/// <summary>
/// rep stos / rep movs over 64 writable pages (256 KiB). Time is per 4 KiB page
/// (OperationsPerInvoke = 64), so bytes/s = 4096 / Mean.
/// </summary>
[MemoryDiagnoser]
public class StringInstructionBenchmarks
{
    private const int Pages = 64;
    private const ulong Dst = 0x100000;
    private const ulong Src = 0x200000;

    private Interpreter _stosq = null!, _stosb = null!, _movsq = null!, _movsb = null!;

    [GlobalSetup]
    public void Setup()
    {
        _stosq = Build(a => { a.mov(ecx, Pages * 4096 / 8); a.mov(rax, -1); a.rep.stosq(); a.ret(); });
        _stosb = Build(a => { a.mov(ecx, Pages * 4096); a.mov(eax, 0x5a); a.rep.stosb(); a.ret(); });
        _movsq = Build(a => { a.mov(ecx, Pages * 4096 / 8); a.rep.movsq(); a.ret(); });
        _movsb = Build(a => { a.mov(ecx, Pages * 4096); a.rep.movsb(); a.ret(); });
    }

    private static Interpreter Build(Action<Assembler> emit)
    {
        var memory = new GuestMemory(4 << 20);
        memory.WriteBytes(GuestSetup.Code, GuestSetup.Assemble(emit));
        // Touch every frame so the benchmark measures copying, not first-touch allocation.
        for (ulong a = Dst; a < Src + Pages * 4096UL; a += 4096) memory.Write(a, 8, a);
        var cpu = new GuestCpu(64) { Rsp = GuestSetup.StackTop };
        var it = new Interpreter(cpu, memory, new AllowAllGate());
        Run(it);
        return it;
    }

    private static ExecutionResult Run(Interpreter it)
    {
        it.Cpu.Rsp = GuestSetup.StackTop;
        var r = it.Call(GuestSetup.Code, [Dst, Src], 1_000);
        return r;
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public ExecutionResult RepStosq() => Run(_stosq);

    [Benchmark(OperationsPerInvoke = Pages)]
    public ExecutionResult RepStosb() => Run(_stosb);

    [Benchmark(OperationsPerInvoke = Pages)]
    public ExecutionResult RepMovsq() => Run(_movsq);

    [Benchmark(OperationsPerInvoke = Pages)]
    public ExecutionResult RepMovsb() => Run(_movsb);
}

/// <summary>Whole kernel routine calls as the simulator makes them (Call overhead included).</summary>
[MemoryDiagnoser]
public class KernelRoutineBenchmarks
{
    private Interpreter _it = null!;
    private RoutineImage _image = null!;
    private ulong _setPte, _wrprotect, _clearPage;

    [GlobalSetup]
    public void Setup()
    {
        var memory = new GuestMemory(1 << 20);
        _image = new RoutineImage(GuestFlavour.BuiltIn("linux-3.x"), memory, GuestSetup.Code);
        _it = new Interpreter(new GuestCpu(64), memory, new AllowAllGate());
        _setPte = _image.EntryOf(KernelOp.SetPte);
        _wrprotect = _image.EntryOf(KernelOp.PtepSetWrprotect);
        _clearPage = _image.EntryOf(KernelOp.ClearPage);
        SetPte();
        Wrprotect();
        ClearPage();
    }

    private ExecutionResult Call(ulong entry, ulong a0, ulong a1 = 0)
    {
        _it.Cpu.Rsp = GuestSetup.StackTop;
        return _it.Call(entry, [a0, a1], 1_000);
    }

    [Benchmark]
    public ExecutionResult SetPte() => Call(_setPte, 0x20008, 0x1234_5067);

    [Benchmark]
    public ExecutionResult Wrprotect() => Call(_wrprotect, 0x20008);

    [Benchmark]
    public ExecutionResult ClearPage() => Call(_clearPage, 0x30000);
}
