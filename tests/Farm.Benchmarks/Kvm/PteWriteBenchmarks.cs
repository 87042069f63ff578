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

    private sealed class PteWriteConfig : ManualConfig
    {
        public PteWriteConfig() => AddColumn(new RateColumn("pte_write/s",
            "kvm_mmu_pte_write calls of one trial per second of trial time", PteWriteCalls));

        private static double PteWriteCalls(BenchmarkCase c) =>
            Trial.RunSequential(Spec((int)c.Parameters["Rounds"])).Long("pte_write.calls");
    }
}
