using System.Diagnostics;
using System.Globalization;
using Farm.Benchmarks.Engine;
using Farm.Benchmarks.X86;
using Farm.Simulation;
using Farm.Simulation.Config;
using Farm.Simulation.Workloads;
using Farm.Simulation.X86;

namespace Farm.Benchmarks;

/// <summary>
/// `cpu-rates [SECONDS] [KERNBENCH-SCALE]`: issue 18's rates per CPU second of this process
/// rather than per wall second, for a shared machine where BenchmarkDotNet's wall times say
/// more about the other jobs than about the code. Same routines as the BenchmarkDotNet
/// classes: the interpreter's straight-line, loop and load/add/store benchmarks, pt-clear's
/// pte_write calls, and kernbench's guest seconds (sequential engine, both presets).
/// </summary>
internal static class CpuRates
{
    public static int Run(string[] args)
    {
        double seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        string scale = args.Length > 1 ? args[1] : KernbenchBenchmarks.Scale;
        var interp = new InstructionThroughputBenchmarks();
        interp.Setup();
        for (int round = 1; round <= 2; round++) // the first round includes tiering up
        {
            Rate($"interpreter straight-line (round {round})", "M instructions", 1001 / 1e6, seconds, () => interp.StraightLineAlu());
            Rate($"interpreter loop (round {round})", "M instructions", 5002 / 1e6, seconds, () => interp.TightLoop());
            Rate($"interpreter load/add/store (round {round})", "M instructions", 5003 / 1e6, seconds, () => interp.LoadAddStoreLoop());
        }
        var pt = SimConfig.Resolve(KeyValueArgs.Parse(["policy=kvm-3.1", "workload.rounds=2000", "engine=sequential"]), WorkloadRegistry.Get("pt-clear").Keys);
        var ptSpec = new TrialSpec("pt-clear", WorkloadRegistry.Get("pt-clear"), pt);
        double calls = Trial.RunSequential(ptSpec).Long("pte_write.calls");
        Rate("pt-clear kvm-3.1 2000 rounds", "M pte_write calls", calls / 1e6, seconds, () => Trial.RunSequential(ptSpec));
        foreach (var policy in new[] { "kvm-3.1", "kvm-3.3" })
        {
            var spec = KernbenchBenchmarks.Spec(policy, scale);
            double guest = Trial.RunSequential(spec).Double("time.elapsed_seconds");
            Rate($"kernbench {policy} scale {scale}", "guest s", guest, seconds, () => Trial.RunSequential(spec));
        }
        return 0;
    }

    /// <summary>Runs <paramref name="op"/> for at least <paramref name="seconds"/> of wall time
    /// and prints its quantity per CPU second of this process.</summary>
    private static void Rate(string name, string unit, double perOp, double seconds, Action op)
    {
        var process = Process.GetCurrentProcess();
        var wall = Stopwatch.StartNew();
        process.Refresh();
        var cpu0 = process.TotalProcessorTime;
        long ops = 0;
        do { op(); ops++; } while (wall.Elapsed.TotalSeconds < seconds);
        process.Refresh();
        double cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {ops * perOp / cpu:N2} {unit} per CPU s ({ops * perOp / wall.Elapsed.TotalSeconds:N2} per wall s, {ops} ops, {cpu:N1} CPU s)"));
    }
}
