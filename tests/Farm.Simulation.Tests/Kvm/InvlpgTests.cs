using Farm.Simulation.Guest;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>FNAME(invlpg) when the leaf page table is not unsync (paging_tmpl.h:655-714 in 3.1.10, 657-717 in 3.3.8).</summary>
public class InvlpgTests
{
    /// <summary>
    /// With unsync off, no leaf shadow page is ever unsync, so each invlpg's walk stops at the leaf
    /// (or earlier, at a missing spte) without dropping anything: one lock, and in 3.1 no
    /// kvm_mmu_pte_write after it (which would be a second lock at the invlpg site).
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void WriteProtectedLeaf_OneLockAndNoPteWrite(string policy)
    {
        const int pages = 16;
        long invlpgExits = 0, invlpgLocks = 0;
        var vm = MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            var parent = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(parent);
            for (int i = 0; i < pages; i++) await v.Touch(parent, GiB + (ulong)i * Page, write: true);
            await v.Fork(parent);
            invlpgExits = v.Vm.Mmu.Stats.ExitsInvlpg;
            invlpgLocks = v.Vm.Mmu.Lock.Acquisitions[(int)LockSite.Invlpg];
            for (int i = 0; i < pages; i++) await v.Touch(parent, GiB + (ulong)i * Page, write: true); // COW: one invlpg each
        }, $"policy={policy}", "mmu.unsync=false");
        Assert.Equal(0, vm.Mmu.Stats.Unsync);
        Assert.Equal(pages, vm.Mmu.Stats.ExitsInvlpg - invlpgExits);
        Assert.Equal(pages, vm.Mmu.Lock.Acquisitions[(int)LockSite.Invlpg] - invlpgLocks);
    }
}
