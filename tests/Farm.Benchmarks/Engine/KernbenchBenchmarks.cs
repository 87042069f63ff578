using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Farm.Simulation;
using Farm.Simulation.Config;
using Farm.Simulation.Results;
using Farm.Simulation.Workloads;

namespace Farm.Benchmarks.Engine;

/// <summary>
/// Issue 18's first target at a small scale: the sequential engine simulating kernbench
/// (workloads/kernbench.yaml at workload.scale=0.01, 42 compile units), one trial per operation.
/// The "guest s/s" column is the trial's simulated guest seconds divided by the mean time of one
/// trial: guest seconds per second of one busy thread, which is guest seconds per CPU second
/// on a free core (the target is at least 4 at scale 1; docs/performance.md). Warm-up and JIT
/// weigh more at this scale than in a full run.
/// Run: dotnet run -c Release --project tests/Farm.Benchmarks -- --filter '*KernbenchBenchmarks*'
/// </summary>
[MemoryDiagnoser]
[Config(typeof(KernbenchConfig))]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5, invocationCount: 1)]
public class KernbenchBenchmarks
{
    /// <summary>The configuration of workloads/kernbench.yaml (this project does not read workload files).</summary>
    internal static readonly string[] KernbenchYaml =
        ["guest.flavour=linux-3.x", "vm.paging=x86-64", "vm.memory_mb=512", "vm.vcpus=4", "workload.jobs=8"];

    public const string Scale = "0.01";

    private TrialSpec _spec = null!;

    [Params("kvm-3.1", "kvm-3.3")]
    public string Policy { get; set; } = "kvm-3.1";

    internal static TrialSpec Spec(string policy, string scale = Scale)
    {
        var workload = WorkloadRegistry.Get("kernbench");
        var config = SimConfig.Resolve(
            KeyValueArgs.Parse([.. KernbenchYaml, $"workload.scale={scale}", $"policy={policy}", "engine=sequential"]), workload.Keys);
        return new TrialSpec("kernbench", workload, config);
    }

    [GlobalSetup]
    public void Setup() => _spec = Spec(Policy);

    [Benchmark]
    public TrialResult Sequential() => Trial.RunSequential(_spec);

    private sealed class KernbenchConfig : ManualConfig
    {
        public KernbenchConfig() => AddColumn(new RateColumn("guest s/s",
            "Simulated guest seconds per second of the benchmark thread (guest s per CPU s on a free core)",
            GuestSeconds));

        private static double GuestSeconds(BenchmarkCase c) =>
            Trial.RunSequential(Spec((string)c.Parameters["Policy"])).Double("time.elapsed_seconds");
    }
}
