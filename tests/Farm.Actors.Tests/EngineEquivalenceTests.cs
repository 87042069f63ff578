using System.Text.Json.Nodes;
using Akka.Actor;
using Farm.Actors.Engine;
using Farm.Simulation;
using Farm.Simulation.Config;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Results;
using Farm.Simulation.Workloads;
using Xunit;

namespace Farm.Actors.Tests;

public class EngineEquivalenceTests
{
    internal static TrialResult Run(string kind, string engine, params string[] sets) => TrialRunner.Run(Spec(kind, engine, sets));

    internal static TrialSpec Spec(string kind, string engine, params string[] sets)
    {
        var workload = WorkloadRegistry.Get(kind);
        var pairs = KeyValueArgs.Parse(sets.Append($"engine={engine}"));
        return new TrialSpec(kind, workload, SimConfig.Resolve(pairs, workload.Keys));
    }

    /// <summary>Runs a trial on actors in <paramref name="system"/>, on <paramref name="dispatcher"/> (null: a strand of its own).</summary>
    internal static TrialResult RunOn(ActorSystem system, string? dispatcher, TrialSpec spec) =>
        Trial.Run(spec, vm => ActorEngine.Run(system, vm, v => spec.Workload.RunVcpu(v, spec.Config), dispatcher: dispatcher));

    /// <summary>MMU service steps of the trial: the same on both engines, whichever actor served them.</summary>
    internal static long Events(TrialResult r) => (long)r.Root["run"]!["events"]!;

    /// <summary>The result without what may differ between runs and engines: "run" and trial.engine.</summary>
    internal static string Comparable(TrialResult r)
    {
        var o = JsonNode.Parse(r.ToJson(withRun: false))!.AsObject();
        o["trial"]!.AsObject().Remove("engine");
        return o.ToJsonString();
    }

    public static TheoryData<string, string, int, int> Cases()
    {
        var data = new TheoryData<string, string, int, int>();
        foreach (var kind in new[] { "pt-clear", "wrprotect", "prefetch-drain", "flood-reuse" })
            foreach (var policy in new[] { "kvm-3.1", "kvm-3.3", "tdp" })
                foreach (var vcpus in new[] { 1, 2, 4, 8 })
                    data.Add(kind, policy, vcpus, vcpus == 4 ? 2 : 1);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ActorsAndSequential_GiveIdenticalResults(string kind, string policy, int vcpus, int seed)
    {
        string[] sets = [$"policy={policy}", $"vm.vcpus={vcpus}", $"seed={seed}", "mmu.unsync=false"];
        var sequential = Run(kind, "sequential", sets);
        var actors = Run(kind, "actors", sets);
        Assert.Equal(Comparable(sequential), Comparable(actors));
        Assert.Equal(Events(sequential), Events(actors));
        Assert.Equal("actors", (string)actors.Root["trial"]!["engine"]!);
    }

    /// <summary>
    /// On the default dispatcher every message of the trial is a thread-pool dispatch, and the
    /// lease moves between threads (not one strand per trial): the results must not depend on it.
    /// </summary>
    [Theory]
    [InlineData("pt-clear", "kvm-3.1", 1)]
    [InlineData("pt-clear", "kvm-3.3", 4)]
    [InlineData("wrprotect", "kvm-3.1", 8)]
    [InlineData("flood-reuse", "kvm-3.3", 2)]
    [InlineData("prefetch-drain", "kvm-3.3", 8)]
    public void ParallelDispatcher_GivesIdenticalResults(string kind, string policy, int vcpus)
    {
        string[] sets = [$"policy={policy}", $"vm.vcpus={vcpus}", "mmu.unsync=false"];
        var sequential = Run(kind, "sequential", sets);
        for (int i = 0; i < 3; i++)
        {
            var actors = RunOn(ActorEngine.LocalSystem, "akka.actor.default-dispatcher", Spec(kind, "actors", sets));
            Assert.Equal(Comparable(sequential), Comparable(actors));
            Assert.Equal(Events(sequential), Events(actors));
        }
    }

    [Fact]
    public async Task TrialsOneAfterAnother_ReuseOneStrand()
    {
        using var system = ActorSystem.Create("strands", "akka.loglevel = WARNING");
        var spec = Spec("pt-clear", "actors", "vm.vcpus=4");
        for (int i = 0; i < 3; i++) Assert.Equal(Outcome.Completed, RunOn(system, null, spec).Outcome);
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // past the dispatcher's shutdown-timeout with no actors on it
        Assert.Equal(Outcome.Completed, RunOn(system, null, spec).Outcome);
        Assert.True(system.Dispatchers.HasDispatcher("farm-trial-strand-1"));
        Assert.False(system.Dispatchers.HasDispatcher("farm-trial-strand-2"));
    }

    [Fact]
    public async Task ConcurrentTrials_EachOnItsStrand_GiveIdenticalResults()
    {
        using var system = ActorSystem.Create("concurrent", "akka.loglevel = WARNING");
        var spec = Spec("wrprotect", "actors", "vm.vcpus=4", "policy=kvm-3.1");
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => RunOn(system, null, spec))));
        var sequential = Comparable(Run("wrprotect", "sequential", "vm.vcpus=4", "policy=kvm-3.1"));
        Assert.All(results, r => Assert.Equal(sequential, Comparable(r)));
    }

    [Fact]
    public void RepeatedActorRuns_AreIdentical()
    {
        var runs = Enumerable.Range(0, 5).Select(_ => Comparable(Run("pt-clear", "actors", "policy=kvm-3.1", "vm.vcpus=8"))).ToList();
        Assert.All(runs, r => Assert.Equal(runs[0], r));
    }

    [Fact]
    public void ModelFailure_EndsTheTrialAsError_AndTheEngineGoesOn()
    {
        // clear_page replaced by cpuid; ret: not in the supported subset.
        var workload = WorkloadRegistry.Get("pt-clear");
        var config = SimConfig.Resolve([KeyValuePair.Create("engine", "actors"), KeyValuePair.Create("vm.vcpus", "2")], workload.Keys);
        var spec = new TrialSpec("pt-clear", workload, config,
            new Dictionary<KernelOp, GuestRoutine> { [KernelOp.ClearPage] = GuestRoutine.FromHex("clear_page", 64, "0f a2 c3") });
        var r = TrialRunner.Run(spec);
        Assert.Equal(Outcome.Error, r.Outcome);
        Assert.Contains("cpuid", r.Error);
        Assert.Contains("0f a2", r.Error);
        Assert.Equal(Outcome.Completed, Run("wrprotect", "actors").Outcome);
    }

    [Fact]
    public void HostBug_IsAnOutcomeOnActorsToo()
    {
        var r = Run("prefetch-drain", "actors", "policy=kvm-3.1", "mmu.unsync=false", "mmu.flood_detector=write-count", "vm.direct_map=bit");
        Assert.Equal(Outcome.HostBug, r.Outcome);
    }
}

[Trait("Category", "Slow")] // docs/testing.md: left out of the quick subset
public class KernbenchEquivalenceTests
{
    [Theory]
    [InlineData("kvm-3.1", 1, 1)]
    [InlineData("kvm-3.3", 2, 2)]
    [InlineData("kvm-3.1", 4, 3)]
    [InlineData("kvm-3.3", 8, 1)]
    public void Kernbench_ActorsAndSequential_GiveIdenticalResults(string policy, int vcpus, int seed)
    {
        string[] sets = [$"policy={policy}", $"vm.vcpus={vcpus}", $"seed={seed}", "workload.scale=0.001", $"workload.jobs={2 * vcpus}", "vm.memory_mb=512"];
        var sequential = EngineEquivalenceTests.Run("kernbench", "sequential", sets);
        var actors = EngineEquivalenceTests.Run("kernbench", "actors", sets);
        Assert.Equal(Outcome.Completed, sequential.Outcome);
        Assert.True(sequential.Long("guest.processes") > 0);
        Assert.Equal(EngineEquivalenceTests.Comparable(sequential), EngineEquivalenceTests.Comparable(actors));
        Assert.Equal(EngineEquivalenceTests.Events(sequential), EngineEquivalenceTests.Events(actors));
    }
}
