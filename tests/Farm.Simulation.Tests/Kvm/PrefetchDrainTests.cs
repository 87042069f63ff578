using Xunit;
using Farm.Simulation.Results;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>Problem 1: kvm_mmu_pte_write's prefetch draining the pte_list_desc cache.</summary>
public class PrefetchDrainTests
{
    private static Results.TrialResult Run(params string[] sets) =>
        MicroHarness.Run("prefetch-drain", [.. sets, "mmu.unsync=false", "mmu.flood_detector=write-count", "workload.pages=64",
            "vm.direct_map=bit"]); // as the workload file: with the direct map as sptes the copy takes no desc (DirectMapTests)

    [Fact]
    public void Kvm31_HitsTheBugOn()
    {
        var r = Run("policy=kvm-3.1");
        Assert.Equal(Outcome.HostBug, r.Outcome);
        Assert.Contains("BUG_ON", r.Error);
        // The write fault that started the emulation topped the cache up to KVM_NR_MEM_OBJS;
        // each element's prefetch maps a page mapped once already, taking one desc: the 41st is the bug.
        Assert.Equal(40, r.Long("desc_cache.allocations"));
        Assert.Equal(1, r.Long("desc_cache.exhausted"));
    }

    [Fact]
    public void TopupOnPteWriteAlone_Completes()
    {
        var r = Run("policy=kvm-3.1", "mmu.topup_on_pte_write=true");
        Assert.Equal(Outcome.Completed, r.Outcome);
        Assert.Equal(0, r.Long("desc_cache.exhausted"));
        // The 64 copied present ptes were all installed, each taking a desc from a cache topped up
        // per call; the other 63 are the demand faults' set_pte into the source table (shadowed
        // after the first fault, and not unsyncable), which map fresh pages and take no desc.
        Assert.Equal(64 + 63, r.Long("pte_write.prefetched"));
        Assert.True(r.Long("desc_cache.allocations") >= 64);
        Assert.True(r.Long("desc_cache.topups") > 1);
        // With the topup inside every kvm_mmu_pte_write the cache never falls below 15 objects,
        // so rmap_can_add never refuses here (docs/model-decisions.md).
        Assert.Equal(0, r.Long("pte_write.prefetch_skipped"));
    }

    [Fact]
    public void ContinueAfterBug_CountsAndGoesOn()
    {
        var r = Run("policy=kvm-3.1", "mmu.continue_after_bug=true");
        Assert.Equal(Outcome.Completed, r.Outcome);
        Assert.True(r.Long("desc_cache.exhausted") >= 1);
    }

    [Fact]
    public void Kvm33_RetriesTheCopy()
    {
        var r = Run("policy=kvm-3.3");
        Assert.Equal(Outcome.Completed, r.Outcome);
        Assert.Equal(1, r.Long("emulation.retried"));
        Assert.Equal(0, r.Long("desc_cache.exhausted"));
    }
}
