using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// Deviation 2 of issue 12: FNAME(sync_page) returns !nr_present and __kvm_sync_page zaps a page
/// that a sync left without a present spte (zap.sync).
/// </summary>
public class SyncZapTests
{
    /// <summary>
    /// The process touches <paramref name="touched"/> pages of one leaf table (each a shadow fault
    /// installing one spte; the prefetch finds no other present guest pte), a same-CR3 write syncs
    /// the table (a second touch's set_pte had unsynced it), then the kernel clears
    /// the first pte: the write fault unsyncs the leaf page, the clear is native. The same-CR3 write
    /// that follows syncs it (mmu_sync_children): the cleared pte's spte is dropped, the others stay.
    /// One touched page: no spte is left, the page is zapped (zap.sync = 1, no valid shadow page of
    /// the table remains). Two: one spte is left present, the page stays (zap.sync = 0).
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1", 1, 1)]
    [InlineData("kvm-3.3", 1, 1)]
    [InlineData("kvm-3.1", 2, 0)]
    [InlineData("kvm-3.3", 2, 0)]
    public void SyncZapsALeafLeftEmpty(string policy, int touched, int zapped)
    {
        MmuStats? before = null, after = null;
        ulong table = 0;
        var vm = MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            // Touched pages a prefetch group (8 ptes) apart, so neither prefetches the other.
            for (int i = 0; i < touched; i++) await v.Touch(p, GiB + (ulong)(8 * i) * Page, write: true);
            ulong pte = v.FindPte(p, GiB);
            table = pte >> 12;
            await v.FlushTlb(); // the second touch's set_pte unsynced the table: resync it first
            before = MicroHarness.Snapshot(v.Vm.Mmu);
            await v.Run(KernelOp.PteClear, pte);
            await v.FlushTlb();
            after = MicroHarness.Snapshot(v.Vm.Mmu);
        }, $"policy={policy}");

        Assert.Equal(1, after!.Unsync - before!.Unsync);
        Assert.Equal(1, after.Resync - before.Resync);
        Assert.Equal(zapped, after.ZapSync - before.ZapSync);
        Assert.Equal(zapped, after.ZapPages - before.ZapPages);
        Assert.Equal(1 - zapped, vm.Mmu.PagesOf(table).Count());
    }
}
