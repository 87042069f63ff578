using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// set_spte and mmu_set_spte (rows 29 and 30 of docs/conformance.md): the remote flush when a
/// writable spte becomes read-only (3.1.10 mmu.c:2278-2279, 3.3.8 mmu.c:2287-2288), sync's shortcut
/// that keeps an already writable spte writable without the mmu_need_write_protect lookup
/// (2254-2255 / 2263-2264), and the drop and flush of an spte whose pfn changed (2312-2316 /
/// 2321-2325). Each test counts kvm_flush_remote_tlbs calls (<see cref="MmuStats.RemoteFlushCalls"/>:
/// every call, IPI or not; with one vCPU none sends an IPI).
/// </summary>
public class SetSpteTests
{
    private const ulong UserRwDirty = PagingMode.Present | PagingMode.Rw | PagingMode.User | PagingMode.Accessed | PagingMode.Dirty;

    /// <summary>
    /// A process touches page 0 for write: its leaf table L is shadowed, spte 0 writable. A zero
    /// written to L's entry 8 write-faults on L, whose only shadow page is a leaf: L goes unsync and
    /// its direct-map spte writable. ptep_set_wrprotect on entry 0 is then native (no exit): the guest
    /// pte is read-only, spte 0 still writable. The same-CR3 write syncs the root: one batch (root,
    /// pud, pmd, L) whose rmap_write_protect of L takes W from L's direct-map spte: flush call 1.
    /// FNAME(sync_page) then re-sets spte 0 from the read-only gpte: writable before, read-only
    /// after, so set_spte flushes: call 2. Spte 8 was never present; no spte is left empty, so no
    /// zap is committed (no third call). Without set_spte's flush: 1.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void Sync_WritableSpteOfAGpteThatLostRw_BecomesReadOnlyWithARemoteFlush(string policy)
    {
        MmuStats? before = null, after = null;
        ShadowPage? leaf = null;
        MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            await v.Touch(p, GiB, write: true);
            ulong pte0 = v.FindPte(p, GiB);
            leaf = v.Vm.Mmu.PagesOf(pte0 >> 12).Single();
            Assert.True(Spte.IsWritable(leaf.Spt[0]));
            await v.Run(KernelOp.SetPte, pte0 + 8 * 8, 0, argc: 2); // unsyncs L
            Assert.True(leaf.Unsync);
            await v.Run(KernelOp.PtepSetWrprotect, pte0); // native: L is unsync
            Assert.True(Spte.IsWritable(leaf.Spt[0])); // stale until the sync
            before = MicroHarness.Snapshot(v.Vm.Mmu);
            await v.FlushTlb();
            after = MicroHarness.Snapshot(v.Vm.Mmu);
        }, $"policy={policy}");

        Assert.Equal(1, after!.Resync - before!.Resync);
        Assert.Equal(0, after.ZapPages - before.ZapPages);
        Assert.True(Spte.IsPresent(leaf!.Spt[0]));
        Assert.False(Spte.IsWritable(leaf.Spt[0]));
        Assert.Equal(2, after.RemoteFlushCalls - before.RemoteFlushCalls);
    }

    /// <summary>
    /// Process Q touches page 0: Q's leaf table X is shadowed (a level-1 page under Q's root).
    /// Process P touches page 0 (its leaf table L), then its kernel writes L's entry 1 to map X
    /// user-writable and dirty: the write-faults on L unsyncs it (native). P's write touch of page 1
    /// faults; FNAME(fetch)'s set_spte (can_unsync) asks mmu_need_write_protect(X): X's only shadow
    /// page is a leaf, so it goes unsync (unsync +1) and spte 1 is writable. P's same-CR3 write then
    /// syncs P's root: one batch (root, pud, pmd, L; X is under Q's root, not in it), whose
    /// rmap_write_protect of L takes W from L's direct-map spte: flush call 1. FNAME(sync_page)
    /// (can_unsync false) finds spte 1 already writable and keeps it so without the lookup: X is
    /// still shadowed, but its protection is kvm_mmu_get_page's and kvm_sync_page's business. Calls:
    /// 1, spte 1 writable. With the lookup instead, mmu_need_write_protect(X, can_unsync false)
    /// answers yes (X has a shadow page): spte 1 read-only and set_spte's flush, call 2.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void Sync_KeepsAnAlreadyWritableSpteWritable_WithoutTheWriteProtectLookup(string policy)
    {
        MmuStats? before = null, after = null;
        ShadowPage? leaf = null;
        ulong x = 0;
        MicroHarness.RunScript(async v =>
        {
            var vmas = new[] { new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true) };
            await v.SwitchTo(null);
            var q = await v.CreateProcess(vmas);
            await v.SwitchTo(q);
            await v.Touch(q, GiB, write: true);
            x = v.FindPte(q, GiB) >> 12;
            var p = await v.CreateProcess(vmas);
            await v.SwitchTo(p);
            await v.Touch(p, GiB, write: true);
            ulong pte0 = v.FindPte(p, GiB);
            leaf = v.Vm.Mmu.PagesOf(pte0 >> 12).Single();
            await v.Run(KernelOp.SetPte, pte0 + 8, v.Mode.MakePte(x, UserRwDirty), argc: 2); // unsyncs L
            Assert.True(leaf.Unsync);
            long unsync = v.Vm.Mmu.Stats.Unsync;
            await v.Touch(p, GiB + Page, write: true);
            Assert.Equal(1, v.Vm.Mmu.Stats.Unsync - unsync); // X went unsync
            Assert.Equal(x, Spte.Target(leaf.Spt[1]));
            Assert.True(Spte.IsWritable(leaf.Spt[1]));
            before = MicroHarness.Snapshot(v.Vm.Mmu);
            await v.FlushTlb();
            after = MicroHarness.Snapshot(v.Vm.Mmu);
        }, $"policy={policy}");

        Assert.Equal(1, after!.Resync - before!.Resync);
        Assert.True(Spte.IsWritable(leaf!.Spt[1]));
        Assert.Equal(1, after.RemoteFlushCalls - before.RemoteFlushCalls);
    }

    /// <summary>
    /// A process touches pages 0 and 1 for write (frames d0, d1; the set_pte of page 1 unsyncs its
    /// leaf table L). ptep_set_wrprotect on entry 0 (native) and a same-CR3 write leave spte 0
    /// read-only, mapping d0, and L in sync; a read touch of page 0 hits it. The kernel then points
    /// entry 0 at d1, writable and dirty: the write faults on L, which goes unsync again, and is
    /// native. Spte 0 still maps d0, read-only. The write touch of page 0 faults on it, and
    /// FNAME(fetch)'s mmu_set_spte finds a present spte of another pfn: drop_spte (d0's rmap loses
    /// it: -1) and kvm_flush_remote_tlbs (call 1); set_spte installs d1 writable (d1 is no page
    /// table: no flush) and rmap_add puts it in d1's rmap (+1). The prefetch around entry 0 finds
    /// entry 1 present and the rest of the group empty: nothing more. Calls: 1.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void MmuSetSpte_PfnChanged_DropsTheOldSpteAndFlushes(string policy)
    {
        MmuStats? before = null, after = null;
        ShadowPage? leaf = null;
        ulong d0 = 0, d1 = 0;
        int rmapD0 = 0, rmapD1 = 0;
        ShadowMmu? mmu = null;
        MicroHarness.RunScript(async v =>
        {
            mmu = v.Vm.Mmu;
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            await v.Touch(p, GiB, write: true);
            await v.Touch(p, GiB + Page, write: true); // unsyncs L
            ulong pte0 = v.FindPte(p, GiB);
            d0 = v.Mode.PteFrame(v.Vm.Memory.Read(pte0, 8));
            d1 = v.Mode.PteFrame(v.Vm.Memory.Read(pte0 + 8, 8));
            leaf = mmu.PagesOf(pte0 >> 12).Single();
            await v.Run(KernelOp.PtepSetWrprotect, pte0);
            await v.FlushTlb();
            Assert.False(leaf.Unsync);
            await v.Touch(p, GiB, write: false);
            Assert.False(Spte.IsWritable(leaf.Spt[0]));
            await v.Run(KernelOp.SetPte, pte0, v.Mode.MakePte(d1, UserRwDirty), argc: 2);
            Assert.True(leaf.Unsync);
            Assert.Equal(d0, Spte.Target(leaf.Spt[0]));
            before = MicroHarness.Snapshot(mmu);
            rmapD0 = mmu.RmapCount(d0);
            rmapD1 = mmu.RmapCount(d1);
            await v.Touch(p, GiB, write: true);
            after = MicroHarness.Snapshot(mmu);
        }, $"policy={policy}");

        Assert.Equal(1, after!.ShadowFaults - before!.ShadowFaults);
        Assert.Equal(d1, Spte.Target(leaf!.Spt[0]));
        Assert.True(Spte.IsWritable(leaf.Spt[0]));
        Assert.Equal(rmapD0 - 1, mmu!.RmapCount(d0));
        Assert.Equal(rmapD1 + 1, mmu.RmapCount(d1));
        Assert.Equal(1, after.RemoteFlushCalls - before.RemoteFlushCalls);
    }
}
