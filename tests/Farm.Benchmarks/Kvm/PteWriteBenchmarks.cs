using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Farm.Simulation;
using Farm.Simulation.Config;
using Farm.Simulation.Results;
using Farm.Simulation.Workloads;

namespace Farm.Benchmarks.Kvm;

/// <summary>
/// The model's hot path: kvm-3.1 emulating rep stosq over recycled page tables, one
/// kvm_mmu_pte_write (and one mmu_lock acquisition) per element. Reports time per trial and,
/// in the "pte_write/s" column, the trial's pte_write calls divided by it (issue 18's target:
/// at least 20M calls per second; the whole trial's time counts, guest work included).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(PteWriteConfig))]
public class PteWriteBenchmarks
{
    private TrialSpec _spec = null!;

    [Params(50)]
    public int Rounds { get; set; }

    private static TrialSpec Spec(int rounds, string flavour = "linux-3.x")
    {
        var workload = WorkloadRegistry.Get("pt-clear");
        var config = SimConfig.Resolve(
            [KeyValuePair.Create("policy", "kvm-3.1"), KeyValuePair.Create("workload.rounds", rounds.ToString()),
             KeyValuePair.Create("guest.flavour", flavour)], workload.Keys);
        return new TrialSpec("pt-clear", workload, config);
    }

    [GlobalSetup]
    public void Setup()
    {
        _spec = Spec(Rounds);
        var r = Trial.RunSequential(_spec);
        Console.WriteLine($"// pt-clear kvm-3.1 rounds={Rounds}: pte_write.calls={r.Long("pte_write.calls")} events={r.Long("run.events")}");
    }

    [Benchmark]
    public TrialResult PtClearKvm31() => Trial.RunSequential(_spec);

    /// <summary>
    /// `pte-write-rate [ROUNDS] [TRIALS] [REPEATS]`: pt-clear under kvm-3.1 (sequential engine),
    /// TRIALS trials per repeat after a warm-up, interleaved with the same trials of pt-clear-erms
    /// (clear_page as rep stosb: twice the pte_write calls for the same guest work, so the
    /// per-element path weighs more). Prints, per CPU second of this process, each trial's
    /// pte_write calls (the first is the BenchmarkDotNet figure) and the bytes allocated per
    /// call. CPU time rather than wall time, for a shared machine
    /// (docs/performance.md, "pte_write path (mmu session)").
    /// </summary>
    public static int CpuRate(string[] args)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        int rounds = args.Length > 0 ? int.Parse(args[0], inv) : 2000;
        int trials = args.Length > 1 ? int.Parse(args[1], inv) : 3;
        int repeats = args.Length > 2 ? int.Parse(args[2], inv) : 3;
        var stosq = Spec(rounds);
        var stosb = Spec(rounds, "linux-3.x-erms");
        long calls = Trial.RunSequential(stosq).Long("pte_write.calls"); // warm-up: JIT and tiering
        long callsB = Trial.RunSequential(stosb).Long("pte_write.calls");
        for (int r = 1; r <= repeats; r++)
        {
            var (cpu, bytes) = Measure(stosq, trials);
            var (cpuB, _) = Measure(stosb, trials);
            Console.WriteLine(System.FormattableString.Invariant(
                $"pt-clear kvm-3.1 rounds={rounds} x{trials}: {calls * trials / cpu / 1e6:N2}M pte_write calls per CPU s ({cpu:N2} CPU s, {bytes / (calls * trials):N1} B allocated per call); rep stosb: {callsB * trials / cpuB / 1e6:N2}M ({cpuB:N2} CPU s)"));
        }
        return 0;
    }

    private static (double Cpu, long Bytes) Measure(TrialSpec spec, int trials)
    {
        var process = System.Diagnostics.Process.GetCurrentProcess();
        process.Refresh();
        var cpu0 = process.TotalProcessorTime;
        long bytes0 = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < trials; t++) Trial.RunSequential(spec);
        process.Refresh();
        return ((process.TotalProcessorTime - cpu0).TotalSeconds, GC.GetAllocatedBytesForCurrentThread() - bytes0);
    }

    private sealed class PteWriteConfig : ManualConfig
    {
        public PteWriteConfig() => AddColumn(new RateColumn("pte_write/s",
            "kvm_mmu_pte_write calls of one trial per second of trial time", PteWriteCalls));

        private static double PteWriteCalls(BenchmarkCase c) =>
            Trial.RunSequential(Spec((int)c.Parameters["Rounds"])).Long("pte_write.calls");
    }
}
