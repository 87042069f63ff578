using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Farm.Actors;
using Farm.Simulation;
using Farm.Simulation.Config;
using Farm.Simulation.Results;
using Farm.Simulation.Workloads;

namespace Farm.Benchmarks.Engine;

/// <summary>
/// Wall time of one trial on each engine, the same trial, measured in one run: the Ratio column
/// is actors/sequential for each of 1, 4 and 8 vCPUs, the cost of running the model as actors
/// (issue 18: at most 1.1 on kernbench at 1, 4 and 8 vCPUs). kernbench is
/// workloads/kernbench.yaml at workload.scale=0.002 (8 compile units, about 190,000 MMU service
/// steps); pt-clear (kvm-3.3, 50 rounds) is the worst case, a stream of short requests.
/// On a shared machine compare medians and minimums too (Ratio is a ratio of means), or use
/// `engine-ratio` or `engine-ratio-warm` (<see cref="EngineRatio"/>): CPU time of paired trials, median ratio.
/// Run: dotnet run -c Release --project tests/Farm.Benchmarks -- --filter '*EngineBenchmarks*' --job short
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MinColumn]
public class EngineBenchmarks
{
    /// <summary>The configuration of workloads/kernbench.yaml (this project does not read workload files).</summary>
    private static readonly string[] KernbenchYaml =
        ["guest.flavour=linux-3.x", "vm.paging=x86-64", "vm.memory_mb=512", "workload.jobs=8"];

    private TrialSpec _sequential = null!;
    private TrialSpec _actors = null!;

    [Params("kernbench", "pt-clear")]
    public string Workload { get; set; } = "kernbench";

    [Params(1, 4, 8)]
    public int Vcpus { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _sequential = Spec("sequential");
        _actors = Spec("actors");
        // Outside the measurement: starts the local actor system, checks that the engines agree.
        var a = TrialRunner.Run(_actors);
        var s = TrialRunner.Run(_sequential);
        if (a.Outcome != Outcome.Completed || Comparable(a) != Comparable(s))
            throw new InvalidOperationException($"{Workload} at {Vcpus} vCPUs: the engines disagree ({a.Outcome.Name()}: {a.Error})");
        Console.WriteLine($"// {Workload} at {Vcpus} vCPUs: {s.Long("run.events")} MMU service steps");
    }

    /// <summary>The result without "run" and trial.engine, which may differ between engines.</summary>
    internal static string Comparable(TrialResult r)
    {
        var o = JsonNode.Parse(r.ToJson(withRun: false))!.AsObject();
        o["trial"]!.AsObject().Remove("engine");
        return o.ToJsonString();
    }

    private TrialSpec Spec(string engine)
    {
        if (Workload == "kernbench") return KernbenchSpec(Vcpus, engine, "0.002");
        var workload = WorkloadRegistry.Get(Workload);
        var config = SimConfig.Resolve(
            KeyValueArgs.Parse(["policy=kvm-3.3", "vm.memory_mb=1024", "workload.rounds=50", $"vm.vcpus={Vcpus}", $"engine={engine}"]), workload.Keys);
        return new TrialSpec(Workload, workload, config);
    }

    /// <summary>workloads/kernbench.yaml at <paramref name="scale"/> on <paramref name="vcpus"/> vCPUs and <paramref name="engine"/>.</summary>
    internal static TrialSpec KernbenchSpec(int vcpus, string engine, string scale)
    {
        var workload = WorkloadRegistry.Get("kernbench");
        var config = SimConfig.Resolve(
            KeyValueArgs.Parse([.. KernbenchYaml, $"workload.scale={scale}", $"vm.vcpus={vcpus}", $"engine={engine}"]), workload.Keys);
        return new TrialSpec("kernbench", workload, config);
    }

    [Benchmark(Baseline = true)]
    public TrialResult Sequential() => TrialRunner.Run(_sequential);

    [Benchmark]
    public TrialResult Actors() => TrialRunner.Run(_actors);
}
