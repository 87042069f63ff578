using Farm.Simulation.Results;
using Farm.Simulation.Tests.Kvm;
using Xunit;

namespace Farm.Simulation.Tests.Workloads;

/// <summary>kernbench under policy tdp beside the shadow presets, at a small scale (docs/tdp.md).</summary>
[Trait("Category", "Slow")] // docs/testing.md: left out of the quick subset
public class TdpKernbenchTests
{
    private static TrialResult Run(params string[] sets) =>
        MicroHarness.Run("kernbench", ["vm.vcpus=4", "vm.memory_mb=512", "workload.jobs=8", "workload.scale=0.002", .. sets]);

    [Fact]
    public void ThreePresets_RunTheSameBuild()
    {
        var shadow31 = Run("policy=kvm-3.1", "seed=5");
        var shadow33 = Run("policy=kvm-3.3", "seed=5");
        var tdp = Run("policy=tdp", "seed=5");
        Assert.True(tdp.Outcome == Outcome.Completed, tdp.Error);
        // Same processes, page faults, page-table pages and forks: the draws do not depend on the
        // scheduler's order, which depends on MMU costs (docs/kernbench.md, common random numbers).
        foreach (string f in new[] { "guest.processes", "guest.forks", "guest.execs", "guest.page_faults", "guest.pt_pages_allocated", "guest.pt_pages_freed" })
        {
            Assert.Equal(shadow31.Long(f), tdp.Long(f));
            Assert.Equal(shadow33.Long(f), tdp.Long(f));
        }
        // No guest-table exit of any kind under tdp: only EPT violations, one per frame first touched,
        // so at most one per guest frame.
        Assert.Equal(tdp.Long("exits.ept_violation"), tdp.Long("exits.total"));
        Assert.InRange(tdp.Long("exits.ept_violation"), 1, 512L * 256);
        Assert.Equal(0, tdp.Long("emulation.elements") + tdp.Long("pte_write.calls") + tdp.Long("exits.cr3"));
        Assert.True(tdp.Long("tdp.walks") > 0);
        Assert.True(shadow33.Long("exits.page_fault") > 0);
    }

    [Theory]
    [InlineData("i386", "linux-3.x-i386")]
    [InlineData("x86-64", "recent")]
    public void OtherGuests_CompleteUnderTdp(string paging, string flavour)
    {
        var r = Run("policy=tdp", $"vm.paging={paging}", $"guest.flavour={flavour}");
        Assert.True(r.Outcome == Outcome.Completed, r.Error);
        Assert.Equal(r.Long("guest.pt_pages_allocated"), r.Long("guest.pt_pages_freed"));
        Assert.Equal(r.Long("exits.ept_violation"), r.Long("exits.total"));
    }
}
