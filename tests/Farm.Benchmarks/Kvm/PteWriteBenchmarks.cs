using BenchmarkDotNet.Attributes;
using Farm.Simulation;
using Farm.Simulation.Config;
using Farm.Simulation.Results;
using Farm.Simulation.Workloads;

namespace Farm.Benchmarks.Kvm;

/// <summary>
/// The model's hot path: kvm-3.1 emulating rep stosq over recycled page tables, one
/// kvm_mmu_pte_write (and one mmu_lock acquisition) per element. Reports time per trial;
/// divide pte_write calls (printed once in GlobalSetup) by it for calls per second.
/// </summary>
[MemoryDiagnoser]
public class PteWriteBenchmarks
{
    private TrialSpec _spec = null!;

    [Params(50)]
    public int Rounds { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var workload = WorkloadRegistry.Get("pt-clear");
        var config = SimConfig.Resolve(
            [KeyValuePair.Create("policy", "kvm-3.1"), KeyValuePair.Create("workload.rounds", Rounds.ToString())], workload.Keys);
        _spec = new TrialSpec("pt-clear", workload, config);
        var r = Trial.RunSequential(_spec);
        Console.WriteLine($"// pt-clear kvm-3.1 rounds={Rounds}: pte_write.calls={r.Long("pte_write.calls")} events={r.Long("run.events")}");
    }

    [Benchmark]
    public TrialResult PtClearKvm31() => Trial.RunSequential(_spec);
}
