using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// mmu_pages_clear_parents (3.1.10 mmu.c:1606-1622, 3.3.8 mmu.c:1626-1642; conformance row 37): a
/// leaf synced by mmu_sync_children has its unsync_child_bitmap bit cleared along the path the walk
/// found it by only; kvm_unlink_unsync_page clears none (rows 34, 36). A bit left in another parent
/// is stale until a walk through that parent finds nothing unsync, and a kvm_mmu_get_page hit on a
/// page above it requests KVM_REQ_MMU_SYNC meanwhile.
/// </summary>
public class ClearParentsTests
{
    /// <summary>
    /// Process P touches page 0 (its leaf table L, under P's pmd entry 0). Process Q touches page 0
    /// (its own tables), then Q's kernel points Q's pmd entry 0 at L: Q's pmd is shadowed (level 2),
    /// so the write is emulated and kvm_mmu_pte_write drops Q's link spte 0. After a same-CR3 write
    /// (Q's view goes; nothing is unsync), Q's read of page 0 faults, and FNAME(fetch)'s
    /// kvm_mmu_get_page hits L's page (same role): L's page has two parent sptes, P's pmd and Q's
    /// pmd, entry 0 of each. A zero written to L's entry 8 write-faults on L: unsync (1), and
    /// mark_unsync sets bit 0 in both pmds and the bits above them, up to both roots.
    /// Q's same-CR3 write syncs Q's root: the walk finds L through Q's pmd (resync 1), and
    /// mmu_pages_clear_parents clears bit 0 of Q's pmd, then Q's pud's bit, then Q's root's (each
    /// left without unsync children). P's pmd keeps bit 0: unsync_children 1.
    /// The switch to P then reloads the roots (cr3-site locks: mmu_free_roots of Q's root 1, the
    /// root load 1, kvm_mmu_sync_roots 1): kvm_mmu_get_page hits P's root, which has unsync
    /// children, and requests KVM_REQ_MMU_SYNC; the sync walk finds nothing unsync (resync 0) and
    /// clears the stale bits on its way (P's pmd: 0). The request was raised by the CR3 write's
    /// own root load, so it is served at the entry after the next exit: P's read of page 0 (a hit,
    /// no fault) syncs the roots once more under one more lock. Locks: 3 + 1 = 4. Clearing the bit
    /// in every parent at the sync (the model before) gave P's pmd 0 unsync children, no request, 3.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void SyncedLeaf_ClearsItsBitAlongTheWalkedPathOnly(string policy)
    {
        MmuStats? s0 = null, s1 = null, s2 = null, s3 = null;
        ShadowPage? pPmd = null, qPmd = null;
        int pPmdAfterQSync = -1, qPmdAfterQSync = -1;
        long cr3Locks = -1;
        MicroHarness.RunScript(async v =>
        {
            var vmas = new[] { new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true) };
            var mmu = v.Vm.Mmu;
            await v.SwitchTo(null);
            var p = await v.CreateProcess(vmas);
            await v.SwitchTo(p);
            await v.Touch(p, GiB, write: true);
            ulong pte0 = v.FindPte(p, GiB);
            ulong leafTable = pte0 >> 12;
            ulong pPmdEntry = PmdEntry(v, p);
            pPmd = mmu.PagesOf(pPmdEntry >> 12).Single(sp => sp.Level == 2);

            var q = await v.CreateProcess(vmas);
            await v.SwitchTo(q);
            await v.Touch(q, GiB, write: true);
            ulong qPmdEntry = PmdEntry(v, q);
            qPmd = mmu.PagesOf(qPmdEntry >> 12).Single(sp => sp.Level == 2);
            await v.Run(KernelOp.SetPmd, qPmdEntry, v.Vm.Memory.Read(pPmdEntry, 8), argc: 2);
            await v.FlushTlb();
            await v.Touch(q, GiB, write: false);
            var leaf = mmu.PagesOf(leafTable).Single();
            Assert.Equal(2, leaf.ParentPtes.Count);

            s0 = MicroHarness.Snapshot(mmu);
            await v.Run(KernelOp.SetPte, pte0 + 8 * 8, 0, argc: 2);
            s1 = MicroHarness.Snapshot(mmu);
            Assert.Equal(1, pPmd.UnsyncChildren);
            Assert.Equal(1, qPmd.UnsyncChildren);

            await v.FlushTlb();
            s2 = MicroHarness.Snapshot(mmu);
            pPmdAfterQSync = pPmd.UnsyncChildren;
            qPmdAfterQSync = qPmd.UnsyncChildren;

            long locks = mmu.Lock.Acquisitions[(int)LockSite.Cr3];
            await v.SwitchTo(p);
            await v.Touch(p, GiB, write: false);
            cr3Locks = mmu.Lock.Acquisitions[(int)LockSite.Cr3] - locks;
            s3 = MicroHarness.Snapshot(mmu);
        }, $"policy={policy}");

        Assert.Equal(1, s1!.Unsync - s0!.Unsync);
        Assert.Equal(1, s2!.Resync - s1.Resync);
        Assert.Equal(0, qPmdAfterQSync);
        Assert.Equal(1, pPmdAfterQSync); // the other parent's bit is stale, as KVM leaves it
        Assert.Equal(0, s3!.Resync - s2.Resync);
        Assert.Equal(0, pPmd!.UnsyncChildren); // cleared by P's walk
        Assert.Equal(0, s3.ShadowFaults - s2.ShadowFaults);
        Assert.Equal(4, cr3Locks);
    }

    /// <summary>The gpa of the pmd entry for 1 GiB: pgd slot 0, pud slot 1, pmd slot 0.</summary>
    private static ulong PmdEntry(GuestVcpu v, GuestProcess proc)
    {
        ulong pud = v.Mode.PteFrame(v.Vm.Memory.Read(proc.PgdGfn << 12, 8));
        ulong pmd = v.Mode.PteFrame(v.Vm.Memory.Read((pud << 12) + 8, 8));
        return pmd << 12;
    }
}
