using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// mmu_zap_unsync_children (3.1 mmu.c:1851-1875, 3.3 mmu.c:1879-1903): a non-leaf shadow page that is
/// prepare-zapped takes its unsync leaves with it (kvm_mmu_prepare_zap_page on each, counted in its
/// return value and in mmu_shadow_zapped).
/// </summary>
public class ZapUnsyncChildrenTests
{
    internal const int Leaves = 3;

    /// <summary>The pmd table, the leaf tables under it, and the MMU counters around the flooding writes.</summary>
    internal sealed record Outcome(GuestVm Vm, ulong Pmd, ulong[] LeafTables, int[] PageIds, MmuStats Before, MmuStats After,
        long[] FlushesPerWrite, long IpiExitsOfVcpu1, int UsedBefore, int UsedAfter);

    /// <summary>
    /// vCPU 0's process touches page 0 of <see cref="Leaves"/> consecutive 2 MiB regions (three leaf
    /// tables under one pmd table, all shadowed), then page 8 of each: each set_pte write-faults on a
    /// shadowed leaf table, which goes unsync (native writes from then on), so the pmd's shadow page
    /// has three unsync children. The kernel then clears three unused entries (100-102) of the pmd
    /// table: emulated (a non-leaf page never goes unsync), each an aligned 8-byte write to the same
    /// gfn with no fault between. The third floods in both versions: 3.1's fork detector
    /// (last_pt_write_count reaches 3, mmu.c:3592-3604) and 3.3's detect_write_flooding on the pmd page
    /// (write_flooding_count reaches 3; the kernel's fault walks never pass a user pmd). vCPU 1 (if
    /// any) computes in guest mode the whole time.
    /// </summary>
    internal static Outcome FloodThePmd(string policy, int vcpus)
    {
        MmuStats? before = null, after = null;
        ulong pmd = 0;
        var leafTables = new ulong[Leaves];
        var ids = new int[Leaves + 1];
        var flushes = new long[3];
        long ipi1 = 0;
        int usedBefore = 0, usedAfter = 0;
        var vm = MicroHarness.RunScript(async v =>
        {
            if (v.Id == 1)
            {
                v.Spend(1_000_000_000_000);
                return;
            }
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, 2 * GiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            for (int t = 0; t < Leaves; t++) await v.Touch(p, GiB + (ulong)t * 2 * MiB, write: true);
            for (int t = 0; t < Leaves; t++) await v.Touch(p, GiB + (ulong)t * 2 * MiB + 8 * Page, write: true);
            var mmu = v.Vm.Mmu;
            for (int t = 0; t < Leaves; t++)
            {
                leafTables[t] = v.FindPte(p, GiB + (ulong)t * 2 * MiB) >> 12;
                var leaf = mmu.PagesOf(leafTables[t]).Single();
                Assert.True(leaf.Unsync);
                ids[t] = leaf.Id;
            }
            ulong pud = v.Mode.PteFrame(v.Vm.Memory.Read(p.PgdGfn << 12, 8)); // GiB is in pgd slot 0
            pmd = v.Mode.PteFrame(v.Vm.Memory.Read((pud << 12) + 8 * 1, 8)); // and in pud slot 1
            ids[Leaves] = mmu.PagesOf(pmd).Single().Id;
            usedBefore = mmu.UsedPages;
            ipi1 = vcpus > 1 ? v.Vm.Vcpus[1].Kvm.IpiExits : 0;
            before = MicroHarness.Snapshot(mmu);
            for (int i = 0; i < 3; i++)
            {
                long f = mmu.Stats.RemoteFlushCalls;
                await v.Run(KernelOp.PteClear, (pmd << 12) + (ulong)(8 * (100 + i)));
                flushes[i] = mmu.Stats.RemoteFlushCalls - f;
            }
            after = MicroHarness.Snapshot(mmu);
            usedAfter = mmu.UsedPages;
            ipi1 = vcpus > 1 ? v.Vm.Vcpus[1].Kvm.IpiExits - ipi1 : 0;
        }, $"policy={policy}", $"vm.vcpus={vcpus}", "vm.memory_mb=512");
        return new Outcome(vm, pmd, leafTables, ids, before!, after!, flushes, ipi1, usedBefore, usedAfter);
    }

    /// <summary>
    /// The flooding write prepare-zaps the pmd page: mmu_zap_unsync_children first zaps its three
    /// unsync leaves (mmu_unsync_walk finds them through unsync_child_bitmap), then the pmd page
    /// itself: 3 + 1 = 4 pages zapped by that one write, and no valid shadow page of any of the
    /// four tables remains. Without the rule the leaves would stay valid (and unsync), orphaned.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void FloodedPmd_TakesItsUnsyncLeavesWithIt(string policy)
    {
        var o = FloodThePmd(policy, vcpus: 1);
        Assert.Equal(Leaves + 1, o.After.ZapPages - o.Before.ZapPages);
        // The model's zap.flooded counts pages, the leaves under the reason of the write that zapped
        // their parent; KVM's mmu_flooded stat counts 1 here (one per page the write matched).
        Assert.Equal(Leaves + 1, o.After.ZapFlooded - o.Before.ZapFlooded);
        Assert.All(o.LeafTables.Append(o.Pmd), t => Assert.Empty(o.Vm.Mmu.PagesOf(t)));
        Assert.Equal(0, o.After.Resync - o.Before.Resync); // zapped, not synced
    }
}
