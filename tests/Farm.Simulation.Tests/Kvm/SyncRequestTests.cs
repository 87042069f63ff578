using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>Deviation 5 of issue 12: a kvm_mmu_get_page hash hit on a page with unsync children
/// requests KVM_REQ_MMU_SYNC, and the roots are synced before the next entry.</summary>
public class SyncRequestTests
{
    /// <summary>
    /// The process's leaf table goes unsync (the set_pte of a second page write-faults on it).
    /// The kernel then rewrites the pud entry above it with the same value: emulated (the pud is
    /// a non-leaf), so kvm_mmu_pte_write drops the pud's link spte to the pmd shadow page. A touch
    /// of a new page in the same table injects a #PF (set_pte is native: the table is unsync),
    /// and its retry's FNAME(fetch) finds the pud entry missing: kvm_mmu_get_page hits the pmd
    /// shadow page, which has an unsync child, and requests the sync. Before the entry the roots
    /// are synced: the leaf is resynced (1) under one more cr3-site lock (1). Without the
    /// request nothing is synced until the next CR3 write.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void HashHitOnPageWithUnsyncChildren_SyncsRootsBeforeEntry(string policy)
    {
        MmuStats? before = null, after = null;
        long cr3Locks = -1;
        MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            await v.Touch(p, GiB, write: true);
            await v.Touch(p, GiB + 8 * Page, write: true); // unsyncs the leaf table
            ulong pgdEntry = p.PgdGfn << 12; // GiB is in pgd slot 0
            ulong pud = v.Mode.PteFrame(v.Vm.Memory.Read(pgdEntry, 8));
            ulong pudEntry = (pud << 12) + 8 * 1; // pud slot 1 maps [1 GiB, 2 GiB)
            ulong value = v.Vm.Memory.Read(pudEntry, 8);
            await v.Run(KernelOp.SetPte, pudEntry, value, argc: 2);
            before = MicroHarness.Snapshot(v.Vm.Mmu);
            long locks = v.Vm.Mmu.Lock.Acquisitions[(int)LockSite.Cr3];
            await v.Touch(p, GiB + 16 * Page, write: false);
            cr3Locks = v.Vm.Mmu.Lock.Acquisitions[(int)LockSite.Cr3] - locks;
            after = MicroHarness.Snapshot(v.Vm.Mmu);
        }, $"policy={policy}");

        Assert.Equal(1, after!.Resync - before!.Resync);
        Assert.Equal(1, cr3Locks);
    }
}
