using Farm.Simulation.Kvm;
using Farm.Simulation.Workloads.Micro;
using Xunit;
using Farm.Simulation.Results;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// Problem 2 (rep stos over a recycled page table), measured on phase 2 of pt-clear only: the
/// kernel clears A's freed tables. Process A had a pgd, a pud and one pmd and pt per region.
/// </summary>
public class PtClearTests
{
    private const int Regions = 4;

    private static (MmuStats Before, long[] LocksBefore, MmuStats After, long[] LocksAfter, int StaleNonLeaf, int StaleLeaf) Phases(params string[] sets)
    {
        MmuStats? before = null, after = null;
        long[]? lb = null, la = null;
        int staleNonLeaf = 0, staleLeaf = 0;
        var vm = MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            await PtClearWorkload.MapAndExit(v, Regions, 8);
            before = MicroHarness.Snapshot(v.Vm.Mmu);
            lb = MicroHarness.LockSnapshot(v.Vm.Mmu);
            staleNonLeaf = MicroHarness.StaleShadowed(v.Vm, nonLeaf: true);
            staleLeaf = MicroHarness.StaleShadowed(v.Vm, nonLeaf: false);
            await PtClearWorkload.BuildTables(v, Regions);
        }, sets);
        after = MicroHarness.Snapshot(vm.Mmu);
        la = MicroHarness.LockSnapshot(vm.Mmu);
        return (before!, lb!, after, la, staleNonLeaf, staleLeaf);
    }

    [Fact]
    public void Kvm31_RepStosq_TakesThePteWriteLockOncePerElement()
    {
        var (b, lb, a, la, staleNonLeaf, staleLeaf) = Phases("policy=kvm-3.1");
        // A's pgd, pud and 4 pmds keep non-leaf shadow pages. Its 4 pts went unsync at the first
        // pte_clear of the exit, and tlb_finish_mmu's same-CR3 write synced them with every gpte
        // clear: FNAME(sync_page) found nothing present and each was zapped (zap.sync).
        Assert.Equal(2 + Regions, staleNonLeaf);
        Assert.Equal(0, staleLeaf);
        Assert.Equal(Regions, b.ZapSync);
        // Each non-leaf page: one emulated rep stosq of 512 elements (fewer than 1024: one exit),
        // each element a kvm_mmu_pte_write taking mmu_lock; the fork detector floods at the 3rd.
        Assert.Equal(512 * staleNonLeaf, la[(int)LockSite.PteWrite] - lb[(int)LockSite.PteWrite]);
        Assert.Equal(512 * staleNonLeaf, a.EmulatedElements - b.EmulatedElements);
        Assert.Equal(staleNonLeaf, a.EmulatedInstructions - b.EmulatedInstructions);
        Assert.Equal(staleNonLeaf, a.ZapFlooded - b.ZapFlooded);
        // A's former leaf tables are no longer shadowed: no unsync, no emulation.
        Assert.Equal(0, a.Unsync - b.Unsync);
        Assert.Equal(0, a.Retried - b.Retried);
    }

    [Fact]
    public void Kvm33_RepStosq_IsRetriedOncePerPage_AtMostThreeLocks()
    {
        var (b, lb, a, la, staleNonLeaf, staleLeaf) = Phases("policy=kvm-3.3");
        // In 3.3, A's exit wrote its pud four times (pud_clear per region) with no fault walk in
        // between: write_flooding_count reached 3 and zapped it. So pgd and 4 pmds are left.
        Assert.Equal(1 + Regions, staleNonLeaf);
        Assert.Equal(staleNonLeaf, a.Retried - b.Retried);
        Assert.Equal(0, la[(int)LockSite.PteWrite] - lb[(int)LockSite.PteWrite]);
        Assert.Equal(0, a.EmulatedElements - b.EmulatedElements);
        Assert.Equal(staleNonLeaf, la[(int)LockSite.Unprotect] - lb[(int)LockSite.Unprotect]);
        // Per retried page: the write fault, the unprotect, the re-fault that maps it writable (3).
        // Per former leaf table of A (zapped by the exit's sync, staleLeaf = 0): its direct-map spte
        // is still read-only, so its clear_page faults once and set_spte maps it writable (1).
        Assert.Equal(0, staleLeaf);
        long locks = (la[(int)LockSite.PageFault] - lb[(int)LockSite.PageFault]) + (la[(int)LockSite.Unprotect] - lb[(int)LockSite.Unprotect]);
        Assert.Equal(3 * staleNonLeaf + Regions, locks);
    }

    [Fact]
    public void Kvm31_RepStosb_Emulates1024ElementsPerExitThenReentersTheGuest()
    {
        var (b, lb, a, la, staleNonLeaf, _) = Phases("policy=kvm-3.1", "guest.flavour=linux-3.x-erms");
        Assert.Equal(2 + Regions, staleNonLeaf);
        // 4096 one-byte elements: the first exit emulates up to RCX = 3072 (1024 elements) and
        // re-enters the guest. The page was zapped as flooded at the 3rd element, so the guest's
        // re-execution faults once more, finds the gfn unshadowed, and finishes natively.
        Assert.Equal(1024 * staleNonLeaf, a.EmulatedElements - b.EmulatedElements);
        Assert.Equal(1024 * staleNonLeaf, la[(int)LockSite.PteWrite] - lb[(int)LockSite.PteWrite]);
        Assert.Equal(staleNonLeaf, a.EmulatedInstructions - b.EmulatedInstructions);
    }

    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void ThirtyTwoBitGuest_Completes(string policy)
    {
        var r = MicroHarness.Run("pt-clear", $"policy={policy}", "vm.paging=i386", "guest.flavour=linux-3.x-i386");
        Assert.Equal(Outcome.Completed, r.Outcome);
        Assert.True(r.Long("shadow.pages_created") > 0);
    }
}
