using Farm.Simulation.Results;
using Xunit;
using static Farm.Actors.Tests.EngineEquivalenceTests;

namespace Farm.Actors.Tests;

/// <summary>The PAE guest mode gives the same results on actors as on the sequential engine.</summary>
public class PaeEngineEquivalenceTests
{
    [Theory]
    [InlineData("pae-high-half", "kvm-3.1", 4)]
    [InlineData("pae-high-half", "kvm-3.3", 4)]
    [InlineData("kernbench", "kvm-3.1", 4)]
    [InlineData("kernbench", "kvm-3.3", 4)]
    public void ActorsAndSequential_GiveIdenticalResults_OnPae(string kind, string policy, int vcpus)
    {
        string[] sets = [$"policy={policy}", $"vm.vcpus={vcpus}", "vm.paging=pae", "guest.flavour=linux-3.x-pae",
            .. kind == "kernbench" ? new[] { "workload.scale=0.001", "vm.memory_mb=512", "workload.jobs=8" } : ["mmu.unsync=false"]];
        var sequential = Run(kind, "sequential", sets);
        var actors = Run(kind, "actors", sets);
        Assert.Equal(Outcome.Completed, sequential.Outcome);
        Assert.Equal(Comparable(sequential), Comparable(actors));
        Assert.Equal(Events(sequential), Events(actors));
    }
}
