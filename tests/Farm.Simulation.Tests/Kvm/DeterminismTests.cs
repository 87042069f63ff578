using Xunit;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>The same trial (configuration + seed) gives byte-identical JSON once "run" is removed.</summary>
public class DeterminismTests
{
    public static TheoryData<string, string, int> Trials()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var kind in new[] { "pt-clear", "wrprotect", "prefetch-drain", "flood-reuse" })
            foreach (var policy in new[] { "kvm-3.1", "kvm-3.3", "tdp" })
                foreach (var vcpus in new[] { 1, 4 })
                    data.Add(kind, policy, vcpus);
        return data;
    }

    [Theory]
    [MemberData(nameof(Trials))]
    public void SameTrialTwice_IdenticalJson(string kind, string policy, int vcpus)
    {
        string[] sets = [$"policy={policy}", $"vm.vcpus={vcpus}", "seed=7"];
        var a = MicroHarness.Run(kind, sets);
        var b = MicroHarness.Run(kind, sets);
        Assert.Equal(a.ToJson(withRun: false), b.ToJson(withRun: false));
        Assert.Equal(vcpus, a.Root["vcpus"]!.AsArray().Count);
    }

    [Fact]
    public void MoreVcpus_ContendForTheLock()
    {
        var one = MicroHarness.Run("pt-clear", "policy=kvm-3.1", "vm.vcpus=1");
        var four = MicroHarness.Run("pt-clear", "policy=kvm-3.1", "vm.vcpus=4");
        Assert.Equal(0, one.Long("mmu_lock.wait_cycles"));
        Assert.True(four.Long("mmu_lock.wait_cycles") > 0);
        Assert.True(four.Long("mmu_lock.contended") > 0);
        Assert.Equal(4 * one.Long("emulation.elements"), four.Long("emulation.elements"));
    }

    [Fact]
    public void TrialId_DependsOnConfigAndSeed_NotOnEngine()
    {
        var a = MicroHarness.Run("wrprotect", "seed=1");
        var b = MicroHarness.Run("wrprotect", "seed=2");
        var c = MicroHarness.Run("wrprotect", "seed=1", "vm.vcpus=2");
        Assert.NotEqual(a.Id, b.Id);
        Assert.NotEqual(a.Id, c.Id);
        Assert.Equal(a.Id, MicroHarness.Run("wrprotect", "seed=1").Id);
    }
}
