using Farm.Simulation.Kvm;
using Xunit;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// kvm_mmu_commit_zap_page (3.1 mmu.c:1930-1957, 3.3 mmu.c:1957-1984): a non-empty invalid list costs
/// one kvm_flush_remote_tlbs however many pages it holds, then every page on it is freed.
/// </summary>
public class CommitZapPageTests
{
    /// <summary>
    /// The scenario of <see cref="ZapUnsyncChildrenTests.FloodThePmd"/>: three emulated clears of unused
    /// pmd entries, the third flooding the pmd page, which prepare-zaps its three unsync leaves and
    /// itself onto one invalid list. The first two writes drop no present spte (need_remote_flush is
    /// false) and zap nothing: no flush. The third: mmu_pte_write_flush_tlb returns at zap_page, and the
    /// commit of the 4 pages flushes once (not once per page), kicking vCPU 1 (in guest mode) out once
    /// (with 2 vCPUs). The 4 pages leave the used count at prepare time (kvm_mod_used_mmu_pages) and are
    /// freed at the commit: the model's page ids no longer resolve.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1", 1)]
    [InlineData("kvm-3.3", 1)]
    [InlineData("kvm-3.1", 2)]
    [InlineData("kvm-3.3", 2)]
    public void OneFlushPerCommit_ThenEveryPageIsFreed(string policy, int vcpus)
    {
        var o = ZapUnsyncChildrenTests.FloodThePmd(policy, vcpus);
        const int Zapped = ZapUnsyncChildrenTests.Leaves + 1;
        Assert.Equal(Zapped, o.After.ZapPages - o.Before.ZapPages);
        Assert.Equal(new long[] { 0, 0, 1 }, o.FlushesPerWrite);
        // KVM's remote_tlb_flush stat counts the call only if it sent an IPI: only with vCPU 1 running.
        Assert.Equal(vcpus - 1, o.After.RemoteFlushes - o.Before.RemoteFlushes);
        Assert.Equal(vcpus - 1, o.IpiExitsOfVcpu1);
        Assert.Equal(o.UsedBefore - Zapped, o.UsedAfter);
        Assert.All(o.PageIds, id => Assert.Throws<InvalidOperationException>(() => o.Vm.Mmu.Page(id)));
    }
}
