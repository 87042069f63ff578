using Farm.Simulation.Guest;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// Deviation 3 of issue 12: mmu_sync_children flushes remote TLBs once per batch of up to 16
/// pages, and every remote request kicks the other vCPUs that are in guest mode (exits.ipi).
/// </summary>
public class RemoteFlushTests
{
    private const int Tables = 20;
    private const long Spin = 1_000_000_000_000;

    /// <summary>
    /// vCPU 0: a process touches page 0 of 20 consecutive 2 MiB regions (20 leaf tables under one
    /// pmd), then page 8 of each, whose set_pte write-faults on the shadowed table and unsyncs it.
    /// The same-CR3 write then syncs the 20 leaves under the root. mmu_unsync_walk fills a batch
    /// with root, pud, pmd and 13 leaves (16 pages), then root, pud, pmd and the other 7: two
    /// batches, each write-protecting unsync (so writable) tables: 2 remote flush calls (20 before,
    /// one per leaf). shadow.remote_flushes counts the calls that sent an IPI, as KVM's stat does. No leaf is left empty, so no zap commits a flush of its own.
    /// vCPU 1 (if any) computes in guest mode the whole time (or halts at once): the sync is one
    /// service, so its two flushes kick it once (1 forced exit), the sender none; a halted vCPU
    /// gets no IPI.
    /// </summary>
    [Theory]
    [InlineData(1, false, 0)]
    [InlineData(2, false, 1)]
    [InlineData(2, true, 0)]
    public void SyncChildren_FlushesOncePerBatch_AndKicksRunningVcpusOnce(int vcpus, bool otherHalts, int kicks)
    {
        MmuStats? before = null, after = null;
        long ipi0 = 0, ipi1 = 0;
        var vm = MicroHarness.RunScript(async v =>
        {
            if (v.Id == 1)
            {
                if (!otherHalts) v.Spend(Spin);
                return;
            }
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, 2 * GiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            for (int t = 0; t < Tables; t++) await v.Touch(p, GiB + (ulong)t * 2 * MiB, write: true);
            for (int t = 0; t < Tables; t++) await v.Touch(p, GiB + (ulong)t * 2 * MiB + 8 * Page, write: true);
            before = MicroHarness.Snapshot(v.Vm.Mmu);
            ipi0 = v.Kvm.IpiExits;
            ipi1 = v.Vm.Vcpus.Length > 1 ? v.Vm.Vcpus[1].Kvm.IpiExits : 0;
            await v.FlushTlb();
            after = MicroHarness.Snapshot(v.Vm.Mmu);
            ipi0 = v.Kvm.IpiExits - ipi0;
            ipi1 = (v.Vm.Vcpus.Length > 1 ? v.Vm.Vcpus[1].Kvm.IpiExits : 0) - ipi1;
        }, "policy=kvm-3.3", $"vm.vcpus={vcpus}", "vm.memory_mb=512");

        Assert.Equal(Tables, after!.Resync - before!.Resync);
        Assert.Equal(0, after.ZapPages - before.ZapPages);
        Assert.Equal(2, after.RemoteFlushCalls - before.RemoteFlushCalls);
        // KVM's remote_tlb_flush stat (shadow.remote_flushes) counts only the calls that sent an IPI.
        Assert.Equal(kicks, after.RemoteFlushes - before.RemoteFlushes);
        Assert.Equal(kicks, after.ExitsIpi - before.ExitsIpi);
        Assert.Equal(kicks, ipi1);
        Assert.Equal(0, ipi0);
        if (vcpus == 2 && !otherHalts)
        {
            // vCPU 1's clock: its compute, the halt request's cycle, and every forced exit it took.
            var k1 = vm.Vcpus[1].Kvm;
            Assert.Equal(Spin + 1 + k1.IpiExits * vm.Cost.IpiExit, vm.Vcpus[1].Clock);
            Assert.Equal(k1.IpiExits, k1.Exits); // its only exits are forced ones (the halt is not counted as one)
        }
    }
}
