using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// kvm_sync_pages (3.1 mmu.c:1521-1545, 3.3 mmu.c:1541-1565), called by kvm_mmu_get_page when it
/// creates a non-leaf page for a gfn that has unsync (leaf) pages (3.1 mmu.c:1700-1701, 3.3
/// mmu.c:1733-1734): each is synced with unsync cleared; one left with no spte present is zapped,
/// the zaps committed together.
/// </summary>
public class SyncPagesTests
{
    /// <summary>
    /// <see cref="FreedUnsyncLeafScenario"/> with one process created between A's exit and B: it takes
    /// A's pgd frame, so B's pgd is A's pud frame, B's pud A's pmd frame, and B's pmd table is T, A's
    /// unsync leaf table (cleared natively by B's kernel, then given B's one pmd entry); B's leaf table
    /// is the next frame, d8. B's retried fault reaches kvm_mmu_get_page(T, level 2): no hit (the
    /// level-1 page has another role) but need_sync (it is unsync), so the new pmd page syncs T's
    /// level-1 page: resync 1. B touching 2 MiB region 5: T's entry 5 is B's pmd entry; entries 0 and
    /// 8 are zero, so sptes 0 and 8 are dropped and the level-1 page is zapped (zap.sync 1): T is left
    /// with the level-2 page only. B touching region 8: T's entry 8 is B's pmd entry pointing to d8
    /// (present, accessed) and spte 8 maps d8: it stays, the level-1 page is kept, in sync now
    /// (zap.sync 0), beside the new level-2 page.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1", 5, 1)]
    [InlineData("kvm-3.3", 5, 1)]
    [InlineData("kvm-3.1", 8, 0)]
    [InlineData("kvm-3.3", 8, 0)]
    public void NewNonLeafPage_SyncsTheGfnsUnsyncLeaves_AndZapsThoseLeftEmpty(string policy, int region, int zapped)
    {
        var o = FreedUnsyncLeafScenario.Run(policy, before: 1, GiB + (ulong)region * 2 * MiB);
        Assert.Equal(o.T, o.TablesOfB[^2]); // B's pmd table is A's old leaf table
        Assert.Equal(o.D8, o.TablesOfB[^1]);

        Assert.Equal(1, o.After.Resync - o.Before.Resync);
        Assert.Equal(zapped, o.After.ZapSync - o.Before.ZapSync);
        // B's pud table is A's pmd frame, still shadowed (level 2): B's kernel clears it with rep stosq,
        // which zaps that page (3.1: fork detector at the third element; 3.3: retried, unprotected): 1.
        // T's clear is native (T is unsync) and zaps nothing. The fault then creates B's pud page (A's
        // pmd frame), pmd page (T, level 2) and leaf page (d8): 3.
        Assert.Equal(1 + zapped, o.After.ZapPages - o.Before.ZapPages);
        Assert.Equal(3, o.After.PagesCreated - o.Before.PagesCreated);
        var pages = o.Vm.Mmu.PagesOf(o.T).OrderBy(sp => sp.Level).ToArray();
        Assert.Equal(2 - zapped, pages.Length);
        Assert.Equal(2, pages[^1].Level);
        Assert.Equal(zapped == 0, o.OldPage.IsValid);
        Assert.False(o.OldPage.Unsync);
        if (zapped == 0) Assert.Same(o.OldPage, pages[0]);
    }
}
