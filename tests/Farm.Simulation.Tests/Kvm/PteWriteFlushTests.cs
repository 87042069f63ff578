using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// kvm_mmu_pte_write's own remote flush: need_remote_flush decides per written spte (3.1 mmu.c:3485-3496,
/// 3.3 mmu.c:3493-3504), mmu_pte_write_flush_tlb flushes remote TLBs once per call when it said so and
/// no page was zapped (3.1 mmu.c:3498-3508, 3.3 mmu.c:3506-3516).
/// </summary>
public class PteWriteFlushTests
{
    private const long Spin = 1_000_000_000_000;

    /// <summary>
    /// vCPU 0's process touches page 0 of a region: its leaf table is shadowed (mmu.unsync off, so
    /// every later write to it is emulated and goes through kvm_mmu_pte_write) and spte 0 maps the
    /// page writable (the guest pte is dirty). vCPU 1 computes in guest mode the whole time. Then the
    /// kernel writes four ptes of that table, one emulated write each:
    /// 1. pte 100 (never mapped, its spte not present) := 0: need_remote_flush(old not present) is
    ///    false: no flush.
    /// 2. pte 0 := its own value: spte 0 is dropped and FNAME(update_pte) installs the same frame with
    ///    the same W and U bits: neither "not present now", nor "target changed", nor "lost a
    ///    permission": no flush (only KVM's own-vCPU local flush, which the model does not count).
    /// 3. pte 0 := 0 (pte_clear): spte 0 was present and is not now: one remote flush, which kicks
    ///    vCPU 1 out of guest mode (1 forced exit; KVM's remote_tlb_flush stat +1).
    /// 4. pte 0 := its old value again, then ptep_set_wrprotect (lock andb, 1 byte) on it. The re-set
    ///    installs spte 0 from a not-present one (no flush). The andb: 3.1 finds it misaligned ("bytes
    ///    &lt; 4"), zaps the table's shadow page, so mmu_pte_write_flush_tlb returns at zap_page and the
    ///    one flush is kvm_mmu_commit_zap_page's; 3.3 (a 1-byte write at the pte's start is aligned)
    ///    reinstalls spte 0 read-only: it lost the W bit: one flush from mmu_pte_write_flush_tlb.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1", 1)]
    [InlineData("kvm-3.3", 0)]
    public void FlushesOnlyWhenAPresentSpteGoesAwayChangesOrLosesAPermission(string policy, int zappedByAndb)
    {
        var flushes = new long[5];
        var zaps = new long[5];
        long ipiAtClear = -1;
        MicroHarness.RunScript(async v =>
        {
            if (v.Id == 1)
            {
                v.Spend(Spin);
                return;
            }
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            await v.Touch(p, GiB, write: true);
            ulong pte0 = v.FindPte(p, GiB);
            ulong value = v.Vm.Memory.Read(pte0, 8);
            var mmu = v.Vm.Mmu;
            var k1 = v.Vm.Vcpus[1].Kvm;
            int step = 0;
            async ValueTask Measure(Func<ValueTask> write)
            {
                long f = mmu.Stats.RemoteFlushCalls, z = mmu.Stats.ZapPages;
                await write();
                flushes[step] = mmu.Stats.RemoteFlushCalls - f;
                zaps[step++] = mmu.Stats.ZapPages - z;
            }
            await Measure(async () => await v.Run(KernelOp.SetPte, pte0 + 100 * 8, 0, argc: 2));
            await Measure(async () => await v.Run(KernelOp.SetPte, pte0, value, argc: 2));
            await v.Touch(p, GiB, write: false); // the hardware sets spte 0's accessed bit: 3.1's fork detector starts over
            long ipi = k1.IpiExits;
            await Measure(async () => await v.Run(KernelOp.PteClear, pte0));
            ipiAtClear = k1.IpiExits - ipi;
            await Measure(async () => await v.Run(KernelOp.SetPte, pte0, value, argc: 2));
            await v.Touch(p, GiB, write: false); // as above: no third write in a row without an access
            await Measure(async () => await v.Run(KernelOp.PtepSetWrprotect, pte0));
        }, $"policy={policy}", "mmu.unsync=false", "vm.vcpus=2", "vm.memory_mb=512");

        Assert.Equal(0, flushes[0]); // 1: old spte not present
        Assert.Equal(0, flushes[1]); // 2: same target, same permissions
        Assert.Equal(1, flushes[2]); // 3: present -> not present
        Assert.Equal(1, ipiAtClear); //    ... and it kicked the running vCPU
        Assert.Equal(0, flushes[3]); // 4a: old spte not present
        Assert.Equal(1, flushes[4]); // 4b: one flush, from the commit (3.1) or from the lost W bit (3.3)
        Assert.Equal(new long[] { 0, 0, 0, 0, zappedByAndb }, zaps);
    }
}
