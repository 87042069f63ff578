using BenchmarkDotNet.Attributes;
using Farm.Actors;
using Farm.Simulation;
using Farm.Simulation.Config;
using Farm.Simulation.Results;
using Farm.Simulation.Workloads;

namespace Farm.Benchmarks.Engine;

/// <summary>
/// Wall time of one trial on each engine, same trial, measured in one run. The ratio
/// actors/sequential is the cost of running the model as actors (issue 5's goal: at most 1.5).
/// </summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    private TrialSpec _spec = null!;

    [Params("pt-clear")]
    public string Workload { get; set; } = "pt-clear";

    [Params(1, 4, 8)]
    public int Vcpus { get; set; }

    [Params("sequential", "actors")]
    public string Engine { get; set; } = "sequential";

    [GlobalSetup]
    public void Setup()
    {
        var workload = WorkloadRegistry.Get(Workload);
        string[] sets = ["policy=kvm-3.3", $"vm.vcpus={Vcpus}", $"engine={Engine}", "vm.memory_mb=1024", "workload.rounds=50"];
        var config = SimConfig.Resolve(KeyValueArgs.Parse(sets), workload.Keys);
        _spec = new TrialSpec(Workload, workload, config);
        TrialRunner.Run(_spec); // starts the local actor system outside the measurement
    }

    [Benchmark]
    public TrialResult Trial() => TrialRunner.Run(_spec);
}
