using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// kvm_sync_page_transient (3.1 mmu.c:1501-1512, 3.3 mmu.c:1514-1525) from kvm_mmu_get_page (3.1
/// mmu.c:1676-1677, 3.3 mmu.c:1709-1710): a hash hit on an unsync page with the wanted role syncs it
/// without clearing unsync; if FNAME(sync_page) leaves no spte present the page is zapped, the zap
/// committed at once, and the loop breaks to create a new page.
/// </summary>
public class SyncPageTransientTests
{
    /// <summary>
    /// <see cref="FreedUnsyncLeafScenario"/> with B created right after A's exit: B's pgd, pud, pmd
    /// and leaf table are A's (LIFO pool), so B's leaf table is T, cleared by B's kernel natively (T is
    /// still unsync) before B's pte goes in; B's data page is the next frame, d8. B's retried fault
    /// walks FNAME(fetch) down to kvm_mmu_get_page(T, level 1): a hit on A's unsync page (same role).
    /// B touches page 16: T holds only pte 16, so sptes 0 and 8 both mismatch (gpte not present) and
    /// are dropped: no spte left, the page is zapped (zap.sync 1) and a new, in-sync page for T is
    /// created. B touches page 8: gpte 8 maps d8 again, as spte 8 does: it stays (speculative) and the
    /// page is reused, still unsync (the transient sync does not clear it, resync 0) and not zapped.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1", 16, 1)]
    [InlineData("kvm-3.3", 16, 1)]
    [InlineData("kvm-3.1", 8, 0)]
    [InlineData("kvm-3.3", 8, 0)]
    public void HitOnAnUnsyncPage_LeftEmpty_IsZappedAndReplaced(string policy, int page, int zapped)
    {
        var o = FreedUnsyncLeafScenario.Run(policy, before: 0, GiB + (ulong)page * Page);
        Assert.Equal(o.T, o.TablesOfB[^1]); // B's leaf table is A's old one
        if (page == 8) Assert.Equal(o.D8, o.Vm.Mode.PteFrame(o.Vm.Memory.Read((o.T << 12) + 8 * 8, 8)));

        Assert.Equal(zapped, o.After.ZapSync - o.Before.ZapSync);
        // B's kernel also clears its new pud and pmd tables (A's, still shadowed) with rep stosq: 3.1's
        // fork detector floods each at its third element, 3.3 retries the (not page-table-writing) stos
        // and unprotects: 2 more zaps, and 2 pages created again by the fault, plus the replacement of T's.
        Assert.Equal(2 + zapped, o.After.ZapPages - o.Before.ZapPages);
        Assert.Equal(2 + zapped, o.After.PagesCreated - o.Before.PagesCreated);
        Assert.Equal(0, o.After.Resync - o.Before.Resync);
        var sp = o.Vm.Mmu.PagesOf(o.T).Single();
        Assert.Equal(1, sp.Level);
        if (zapped == 1)
        {
            Assert.NotSame(o.OldPage, sp);
            Assert.False(o.OldPage.IsValid);
            Assert.False(sp.Unsync);
        }
        else
        {
            Assert.Same(o.OldPage, sp);
            Assert.True(sp.Unsync);
        }
    }
}
