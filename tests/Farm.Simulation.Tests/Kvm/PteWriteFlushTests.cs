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
    /// page writable (the guest pte is dirty). vCPU 1 computes in guest mode the whole time. The
    /// kernel then writes ptes of that table, one emulated 8-byte write each unless said otherwise;
    /// each drops the written spte (mmu_page_zap_pte) and FNAME(update_pte) installs the new guest
    /// pte, if present, speculatively:
    /// 1. pte 100 (its spte not present) := 0: need_remote_flush(old not present) is false: 0 flushes.
    /// 2. pte 0 := its own value: same frame, same W and U bits: 0 (only KVM's own-vCPU local flush,
    ///    which the model does not count).
    /// 3. pte 0 := its value without RW: same frame, W lost: 1.
    /// 4. pte 0 := the zero page, read-only (as a read fault on anonymous memory maps it): the spte was
    ///    read-only already, only the frame changed: 1.
    /// 5. pte 0 := 0 (pte_clear): present, then not: 1, and it kicks vCPU 1 out of guest mode (1 forced exit).
    /// 6. pte 0 := its first value: from not present: 0.
    /// 7. ptep_set_wrprotect (lock andb, 1 byte) on pte 0. 3.1 finds it misaligned ("bytes &lt; 4"),
    ///    zaps the table's shadow page and mmu_pte_write_flush_tlb returns at zap_page: the one flush
    ///    is kvm_mmu_commit_zap_page's. 3.3 (a 1-byte write at the pte's start is aligned) reads no
    ///    gentry for a 1-byte write (mmu_pte_write_fetch_gpte reads 4 or 8 bytes only), so spte 0 is
    ///    dropped and nothing installed: present, then not: 1 from mmu_pte_write_flush_tlb.
    /// After each write that leaves spte 0 present the process reads the page, so that 3.1's fork
    /// detector sees the speculative spte accessed and starts over (no write floods the table).
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1", 1)]
    [InlineData("kvm-3.3", 0)]
    public void FlushesOnlyWhenAPresentSpteGoesAwayChangesOrLosesAPermission(string policy, int zappedByAndb)
    {
        var flushes = new List<long>();
        var zaps = new List<long>();
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
            ulong zeroPage = v.Mode.MakePte(v.Vm.ZeroGfn, PagingMode.Present | PagingMode.User | PagingMode.Accessed);
            var mmu = v.Vm.Mmu;
            var k1 = v.Vm.Vcpus[1].Kvm;
            async ValueTask Write(KernelOp op, ulong ptep, ulong pte, bool readAfter)
            {
                long f = mmu.Stats.RemoteFlushCalls, z = mmu.Stats.ZapPages;
                await v.Run(op, ptep, pte, argc: op == KernelOp.SetPte ? 2 : 1);
                flushes.Add(mmu.Stats.RemoteFlushCalls - f);
                zaps.Add(mmu.Stats.ZapPages - z);
                if (readAfter) await v.Touch(p, GiB, write: false); // sets the spte's accessed bit (3.1's fork detector)
            }
            await Write(KernelOp.SetPte, pte0 + 100 * 8, 0, readAfter: false);
            await Write(KernelOp.SetPte, pte0, value, readAfter: true);
            await Write(KernelOp.SetPte, pte0, value & ~PagingMode.Rw, readAfter: true);
            await Write(KernelOp.SetPte, pte0, zeroPage, readAfter: true);
            long ipi = k1.IpiExits;
            await Write(KernelOp.PteClear, pte0, 0, readAfter: false);
            ipiAtClear = k1.IpiExits - ipi;
            await Write(KernelOp.SetPte, pte0, value, readAfter: true);
            await Write(KernelOp.PtepSetWrprotect, pte0, 0, readAfter: false);
        }, $"policy={policy}", "mmu.unsync=false", "vm.vcpus=2", "vm.memory_mb=512");

        Assert.Equal(new long[] { 0, 0, 1, 1, 1, 0, 1 }, flushes);
        Assert.Equal(1, ipiAtClear); // the flush of step 5 kicked the running vCPU
        Assert.Equal(new long[] { 0, 0, 0, 0, 0, 0, zappedByAndb }, zaps);
    }
}
