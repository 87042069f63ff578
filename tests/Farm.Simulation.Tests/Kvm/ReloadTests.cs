using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>Deviation 4 of issue 12: kvm_reload_remote_mmus makes every vCPU reload its roots.</summary>
public class ReloadTests
{
    /// <summary>
    /// Each vCPU runs a process of its own. vCPU 0 then writes three entries of its pgd (its root)
    /// with nothing in between: in 3.1 the fork detector floods at the third write and zaps the
    /// root it runs on (zap.roots_in_use = 1), which requests KVM_REQ_MMU_RELOAD of every vCPU.
    /// vCPU 1's root is untouched and valid, yet at its next request it unloads and reloads:
    /// mmu_free_roots (1 lock), one root from kvm_mmu_get_page (1 lock), kvm_mmu_sync_roots (1
    /// lock) = 3 acquisitions at the cr3 site. Only vCPU 1 runs then (vCPU 0 has halted).
    /// </summary>
    [Fact]
    public void ZappedRootInUse_ReloadsEveryVcpu()
    {
        long cr3Locks = -1;
        MmuStats? afterZap = null;
        var vm = MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            await v.Touch(p, GiB, write: true);
            if (v.Id == 0)
            {
                v.Spend(1_000_000_000);
                for (int i = 10; i < 13; i++) await v.Run(KernelOp.SetPte, (p.PgdGfn << 12) + (ulong)(8 * i), 0, argc: 2);
                afterZap = MicroHarness.Snapshot(v.Vm.Mmu);
                return;
            }
            v.Spend(100_000_000_000);
            long before = v.Vm.Mmu.Lock.Acquisitions[(int)LockSite.Cr3];
            await v.Touch(p, GiB + 64 * Page, write: false);
            cr3Locks = v.Vm.Mmu.Lock.Acquisitions[(int)LockSite.Cr3] - before;
        }, "policy=kvm-3.1", "vm.vcpus=2", "vm.memory_mb=512");

        Assert.Equal(1, afterZap!.ZapRootsInUse);
        Assert.Equal(1, afterZap.ZapFlooded);
        Assert.Equal(3, cr3Locks);
    }
}
