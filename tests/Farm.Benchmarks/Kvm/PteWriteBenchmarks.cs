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

    private static TrialSpec Spec(int rounds)
    {
        var workload = WorkloadRegistry.Get("pt-clear");
        var config = SimConfig.Resolve(
            [KeyValuePair.Create("policy", "kvm-3.1"), KeyValuePair.Create("workload.rounds", rounds.ToString())], workload.Keys);
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
    /// `pte-write-rate [ROUNDS] [TRIALS] [REPEATS]`: the same trial (pt-clear, kvm-3.1, sequential
    /// engine) run TRIALS times per repeat after one warm-up trial; prints pte_write calls per CPU
    /// second of this process and bytes allocated per call, per repeat. CPU time rather than wall
    /// time, for a shared machine (docs/performance.md, "pte_write path (mmu session)").
    /// </summary>
    public static int CpuRate(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 2000;
        int trials = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3;
        int repeats = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 3;
        var spec = Spec(rounds);
        long calls = Trial.RunSequential(spec).Long("pte_write.calls"); // warm-up: JIT and tiering
        var process = System.Diagnostics.Process.GetCurrentProcess();
        for (int r = 1; r <= repeats; r++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            long bytes0 = GC.GetAllocatedBytesForCurrentThread();
            int gc0 = GC.CollectionCount(0);
            for (int t = 0; t < trials; t++) Trial.RunSequential(spec);
            process.Refresh();
            double cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
            double perCall = (double)(GC.GetAllocatedBytesForCurrentThread() - bytes0) / (calls * trials);
            Console.WriteLine(System.FormattableString.Invariant(
                $"pt-clear kvm-3.1 rounds={rounds} x{trials}: {calls * trials / cpu / 1e6:N2}M pte_write calls per CPU s ({cpu:N2} CPU s, {perCall:N1} B allocated per call, {GC.CollectionCount(0) - gc0} gen0 GCs)"));
        }
        return 0;
    }

    private sealed class PteWriteConfig : ManualConfig
    {
        public PteWriteConfig() => AddColumn(new RateColumn("pte_write/s",
            "kvm_mmu_pte_write calls of one trial per second of trial time", PteWriteCalls));

        private static double PteWriteCalls(BenchmarkCase c) =>
            Trial.RunSequential(Spec((int)c.Parameters["Rounds"])).Long("pte_write.calls");
    }
}
