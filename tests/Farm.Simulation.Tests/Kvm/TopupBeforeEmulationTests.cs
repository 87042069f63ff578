using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// The pte_list_desc topup between a write fault and its emulation: 3.1's kvm_mmu_page_fault tops up
/// again before x86_emulate_instruction (3.1 mmu.c:3717-3719), 3.3 tops up inside kvm_mmu_pte_write
/// (3.3 mmu.c:3659). Either refills a cache that the fault itself left below its minimum
/// (8 + PTE_PREFETCH_NUM = 16, mmu.c 3.1:625-640, 3.3:618-633) after the fault's own topup found it full enough.
/// </summary>
public class TopupBeforeEmulationTests
{
    /// <summary>
    /// Four processes run in turn, each touching one page after its CR3 load: each new root's first
    /// kernel-mode fault links its kernel half to the shadow pages of the guest's shared kernel page
    /// tables (DirectMapTests), whose parent list grows by one: the idle root and the first three
    /// processes' roots are its entries 1 to 4. Then process B is loaded, and its first kernel access
    /// is an emulated write: a pte_clear of an unused entry of process A's leaf table (shadowed;
    /// mmu.unsync off, so write-protected). The vCPU's desc cache holds 16 objects then (the earlier
    /// faults' rmap and parent adds took the others; the test takes the rest of them as an earlier
    /// prefetch would): the fault's topup finds 16, not below the minimum, and adds nothing. The fault
    /// links B's root to the shared page: its 5th parent, which needs a second desc (pte_list_add
    /// allocates at the 2nd, 5th, 9th entry): 15 objects left. The write is then emulated (a mov is
    /// page-table-writing: 3.3 does not retry it): 3.1 tops up before the emulation, 3.3 inside
    /// kvm_mmu_pte_write: one topup, back to KVM_NR_MEM_OBJS (40; the pte write installs nothing,
    /// gentry is 0). Without that second topup the emulation would start with 15, below the minimum.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void FaultLeavesTheCacheBelowItsMinimum_TheEmulationRefillsIt(string policy)
    {
        long descs = -1, topups = -1, emulated = -1;
        int left = -1;
        MicroHarness.RunScript(async v =>
        {
            var vmas = new[] { new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true) };
            await v.SwitchTo(null);
            GuestProcess? a = null;
            for (int i = 0; i < 3; i++)
            {
                var p = await v.CreateProcess(vmas);
                await v.SwitchTo(p);
                await v.Touch(p, GiB, write: true);
                a ??= p;
            }
            ulong unused = v.FindPte(a!, GiB) + 100 * 8;
            var b = await v.CreateProcess(vmas);
            await v.SwitchTo(b);
            var cache = v.Kvm.DescCache;
            Assert.True(cache.Objects >= MmuConstants.DescCacheMin);
            while (cache.Objects > MmuConstants.DescCacheMin) Assert.True(cache.TryAlloc());
            var mmu = v.Vm.Mmu;
            long d = mmu.Stats.DescAllocations, t = mmu.Stats.Topups, e = mmu.Stats.EmulatedInstructions;
            await v.Run(KernelOp.PteClear, unused);
            descs = mmu.Stats.DescAllocations - d;
            topups = mmu.Stats.Topups - t;
            emulated = mmu.Stats.EmulatedInstructions - e;
            left = cache.Objects;
        }, $"policy={policy}", "mmu.unsync=false");

        Assert.Equal(1, emulated);
        Assert.Equal(1, descs);  // the shared kernel table's 5th parent
        Assert.Equal(1, topups); // the one between the fault and the emulated write
        Assert.Equal(MmuConstants.KVM_NR_MEM_OBJS, left);
    }
}
