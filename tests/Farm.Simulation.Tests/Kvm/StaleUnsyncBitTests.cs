using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// mmu_page_zap_pte / drop_parent_pte (3.1.10 mmu.c:1308-1313, 1799-1818; 3.3.8 mmu.c:1321-1326,
/// 1832-1855; conformance row 10): dropping a link spte leaves the parent's unsync_child_bitmap bit
/// and unsync_children as they are; only a later __mmu_unsync_walk (3.1 mmu.c:1402-1444, 3.3
/// mmu.c:1415-1457) finds the spte gone and clears the bit. Meanwhile a kvm_mmu_get_page hit on that
/// parent requests KVM_REQ_MMU_SYNC (3.1 mmu.c:1680-1682, 3.3 mmu.c:1712-1714).
/// </summary>
public class StaleUnsyncBitTests
{
    /// <summary>
    /// The process's leaf table L goes unsync (the set_pte of a second page write-faults on it):
    /// mark_unsync sets bit 0 of the pmd page M, bit 1 of the pud page U and bit 0 of the root.
    /// The kernel rewrites pmd entry 0 with its own value: emulated (M is a non-leaf), so
    /// kvm_mmu_pte_write drops M's link spte 0 to L; M keeps bit 0, unsync_children 1, though
    /// nothing unsync is below it any more. It then rewrites pud entry 1 the same way, dropping U's
    /// link spte 1 to M (U keeps its bit too). A read of a page under the new pmd entry 1 injects a
    /// #PF (the guest pmd entry is empty); the handler sets pmd entry 1 (emulated on M, index 1
    /// had no spte) and the pte, and the retry's FNAME(fetch) finds U's entry 1 missing:
    /// kvm_mmu_get_page hits M, whose only unsync bit is the stale one, and requests the sync.
    /// Before the entry the roots are synced under one more cr3-site lock (1); the walk, root → U →
    /// M, finds M's spte 0 gone and clears bit 0, then U's and the root's bits, each left without
    /// unsync children: it syncs nothing (resync 0). Clearing M's bit when the spte was dropped (the
    /// model before) left M with 0 unsync children: no request, 0 locks.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void DroppedLinkSpte_KeepsTheBit_AndAHitOnItsPageRequestsASyncThatSyncsNothing(string policy)
    {
        MmuStats? before = null, after = null;
        long cr3Locks = -1;
        int pmdAfterDrop = -1, pudAfterDrop = -1, pmdAfterSync = -1, pudAfterSync = -1;
        MicroHarness.RunScript(async v =>
        {
            var mmu = v.Vm.Mmu;
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, GiB + 4 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            await v.Touch(p, GiB, write: true);
            await v.Touch(p, GiB + 8 * Page, write: true); // unsyncs the leaf table
            ulong pud = v.Mode.PteFrame(v.Vm.Memory.Read(p.PgdGfn << 12, 8)); // GiB is in pgd slot 0
            ulong pudEntry = (pud << 12) + 8 * 1; // pud slot 1 maps [1 GiB, 2 GiB)
            ulong pmdEntry = v.Mode.PteFrame(v.Vm.Memory.Read(pudEntry, 8)) << 12; // pmd slot 0
            var pmdPage = mmu.PagesOf(pmdEntry >> 12).Single(sp => sp.Level == 2);
            var pudPage = mmu.PagesOf(pud).Single(sp => sp.Level == 3);
            Assert.Equal(1, pmdPage.UnsyncChildren);

            await v.Run(KernelOp.SetPmd, pmdEntry, v.Vm.Memory.Read(pmdEntry, 8), argc: 2);
            await v.Run(KernelOp.SetPte, pudEntry, v.Vm.Memory.Read(pudEntry, 8), argc: 2);
            Assert.False(Spte.IsPresent(pmdPage.Spt[0]));
            pmdAfterDrop = pmdPage.UnsyncChildren;
            pudAfterDrop = pudPage.UnsyncChildren;

            before = MicroHarness.Snapshot(mmu);
            long locks = mmu.Lock.Acquisitions[(int)LockSite.Cr3];
            await v.Touch(p, GiB + 2 * MiB, write: false);
            cr3Locks = mmu.Lock.Acquisitions[(int)LockSite.Cr3] - locks;
            after = MicroHarness.Snapshot(mmu);
            pmdAfterSync = pmdPage.UnsyncChildren;
            pudAfterSync = pudPage.UnsyncChildren;
        }, $"policy={policy}");

        Assert.Equal(1, pmdAfterDrop); // the stale bit, as KVM leaves it
        Assert.Equal(1, pudAfterDrop);
        Assert.Equal(1, cr3Locks);
        Assert.Equal(0, after!.Resync - before!.Resync);
        Assert.Equal(0, pmdAfterSync); // cleared by the walk
        Assert.Equal(0, pudAfterSync);
    }
}
