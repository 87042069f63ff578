using Farm.Simulation.Guest;
using Farm.Simulation.Workloads.Micro;
using Xunit;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// account_shadowed / unaccount_shadowed (mmu.c:703-732 in 3.1.10, 696-725 in 3.3.8):
/// indirect_shadow_pages counts exactly the valid indirect shadow pages, through creation, zaps
/// (flooding, misalignment, unprotect) and frees.
/// </summary>
public class AccountShadowedTests
{
    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void IndirectShadowPages_CountsTheValidIndirectPages(string policy)
    {
        var counts = new List<(long Counter, long Pages)>();
        var vm = MicroHarness.RunScript(async v =>
        {
            void Check() => counts.Add((v.Vm.Mmu.IndirectShadowPages, ValidIndirectPages(v.Vm)));
            await v.SwitchTo(null);
            await PtClearWorkload.MapAndExit(v, 4, 8);
            Check();
            await PtClearWorkload.BuildTables(v, 4); // clears A's freed tables: flood zaps (3.1), unprotects (3.3)
            Check();
        }, $"policy={policy}");
        Assert.All(counts, c => Assert.Equal(c.Pages, c.Counter));
        Assert.True(counts[0].Counter > 0);
        Assert.True(vm.Mmu.Stats.ZapFlooded + vm.Mmu.Stats.ZapUnprotect > 0); // unaccounting was exercised
    }

    private static long ValidIndirectPages(GuestVm vm)
    {
        long n = 0;
        for (ulong g = 0; g < vm.Memory.FrameCount; g++) n += vm.Mmu.PagesOf(g).Count();
        return n;
    }
}
