using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Farm.Simulation.X86;
using Iced.Intel;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>The smaller rules of issue 12's deviation 6.</summary>
public class SmallRulesTests
{
    /// <summary>
    /// 3.3's retry_instruction forgets the last retried (rip, address) on every call. The process's
    /// pmd table M is shadowed (a non-leaf). clear_page(M) is retried (1), which unprotects M; an
    /// emulated mov to the pud table follows (retry_instruction runs and clears the pair); a touch
    /// re-links M (its shadow page is created again); clear_page(M) faults at the same rip and
    /// address as the first time and is retried again (2). Remembering the pair across the mov
    /// would have emulated it instead, 512 elements.
    /// </summary>
    [Fact]
    public void Kvm33_RetryPairIsForgottenByAnyEmulation()
    {
        MmuStats? before = null, after = null;
        MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            await v.Touch(p, GiB, write: true);
            ulong pud = v.Mode.PteFrame(v.Vm.Memory.Read(p.PgdGfn << 12, 8));
            ulong pmd = v.Mode.PteFrame(v.Vm.Memory.Read((pud << 12) + 8, 8));
            before = MicroHarness.Snapshot(v.Vm.Mmu);
            await v.Run(KernelOp.ClearPage, pmd << 12);
            await v.Run(KernelOp.SetPte, (pud << 12) + 8 * 5, 0, argc: 2);
            await v.Touch(p, GiB + Page, write: true); // M is empty: a guest #PF refills it, then the fetch shadows M again
            await v.Run(KernelOp.ClearPage, pmd << 12);
            after = MicroHarness.Snapshot(v.Vm.Mmu);
        }, "policy=kvm-3.3", "vm.memory_mb=64");

        Assert.Equal(2, after!.Retried - before!.Retried);
        Assert.Equal(0, after.EmulatedElements - before.EmulatedElements - 1); // the pud mov only
    }

    /// <summary>
    /// cmpxchg16b (REX.W 0F C7 /1) shares group9's cmpxchg8b entry, flagged PageTable, in 3.3's
    /// emulator table: a page-table-writing instruction, never retried. (The interpreter does not
    /// execute it; no guest routine uses it.)
    /// </summary>
    [Fact]
    public void Cmpxchg16b_IsPageTableWriting()
    {
        var decoder = Decoder.Create(64, new ByteArrayCodeReader([0xf0, 0x48, 0x0f, 0xc7, 0x0f]));
        decoder.Decode(out var ins);
        Assert.Equal(Mnemonic.Cmpxchg16b, ins.Mnemonic);
        Assert.True(InstructionClass.IsPageTableWritingInstruction(ins));
    }

    /// <summary>
    /// RMAP_RECYCLE_THRESHOLD: read faults on 1,100 anonymous pages map the shared zero page
    /// read-only, one spte each, all in the zero page's rmap. mmu_set_spte recycles the rmap when
    /// pte_list_add reports more than 1,000 entries, so it never holds more than 1,001 after a
    /// set; without the rule it would end at 1,100 (and more with prefetch re-adds: none here,
    /// each spte is installed once unless recycled).
    /// </summary>
    [Fact]
    public void ZeroPageRmap_IsRecycledAboveTheThreshold()
    {
        const int pages = 1100;
        int maxSeen = 0;
        var vm = MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, GiB + 8 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            for (int i = 0; i < pages; i++)
            {
                await v.Touch(p, GiB + (ulong)i * Page, write: false);
                maxSeen = Math.Max(maxSeen, v.Vm.Mmu.RmapCount(v.Vm.ZeroGfn));
            }
        }, "policy=kvm-3.3");

        Assert.True(vm.Mmu.Stats.RmapRecycles >= 1);
        Assert.True(maxSeen <= MmuConstants.RMAP_RECYCLE_THRESHOLD + 1, $"zero-page rmap reached {maxSeen}");
        Assert.True(vm.Mmu.RmapCount(vm.ZeroGfn) < pages - MmuConstants.RMAP_RECYCLE_THRESHOLD + MmuConstants.PTE_PREFETCH_NUM);
    }
}
