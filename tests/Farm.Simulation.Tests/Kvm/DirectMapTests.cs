using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// The guest kernel's direct map as shadow state (vm.direct_map: sptes, issue 12): kernel accesses
/// fault through FNAME(page_fault) / FNAME(fetch), guest large pages are shadowed by direct pages
/// of 4 KiB sptes (4 KiB host backing), __direct_pte_prefetch fills the run before the fault, and
/// the sptes are rmap entries like any other.
/// Layout of a 1-vCPU x86-64 VM with 256 MiB (GuestVm): gfn 16 the vCPU's stack, 17 its idle pgd
/// (swapper_pg_dir), 18 the direct map's pud, 19 its pmd (256 MiB: one pmd), 20 the first pool frame.
/// </summary>
public class DirectMapTests
{
    private const ulong Stack = 16, Swapper = 17, Pud = 18, Pmd = 19, FirstFree = 20;

    /// <summary>
    /// The first kernel access after boot (clear_page of the new pgd, frame 20) faults once: the walk
    /// finds no spte in the idle root for pgd slot 272, so FNAME(fetch) creates the indirect pages of
    /// the pud and the pmd, then (below the 2 MiB gpte) one direct page for gfns 0-511, installs the
    /// spte of frame 20 and prefetches. The prefetch group is 16-23: the run 16-19 ends at the
    /// faulting spte and is mapped; the run 21-23 is still open at the end of the group and is not
    /// (__direct_pte_prefetch). pgd_ctor's memcpy then reads swapper_pg_dir (17) through the
    /// prefetched spte: no second fault. Every rmap and parent list has one entry: no desc.
    /// The prefetched sptes of 17, 18, 19 are read-only (shadowed as root, pud and pmd: a non-leaf
    /// page cannot go unsync, mmu_need_write_protect), 16 is writable.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void FirstKernelAccess_BuildsThePath_AndPrefetchesTheRunBeforeTheFault(string policy)
    {
        MmuStats? s0 = null, s1 = null;
        var vm = MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            s0 = MicroHarness.Snapshot(v.Vm.Mmu);
            await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            s1 = MicroHarness.Snapshot(v.Vm.Mmu);
        }, $"policy={policy}");

        Assert.Equal([Pud, Pmd], vm.DirectMap!.TableFrames);
        Assert.Equal(1, s1!.KernelFaults - s0!.KernelFaults);
        Assert.Equal(1, s1.ExitsPageFault - s0.ExitsPageFault);
        Assert.Equal(3, s1.PagesCreated - s0.PagesCreated); // pud, pmd, one direct page
        Assert.Equal(1, s1.DirectPagesCreated - s0.DirectPagesCreated);
        Assert.Equal(4, s1.ShadowPrefetched - s0.ShadowPrefetched); // gfns 16-19
        Assert.Equal(0, s1.DescAllocations - s0.DescAllocations);
        for (ulong g = Stack; g <= FirstFree; g++) Assert.Equal(1, vm.Mmu.DirectMapRmapEntries(g));
        Assert.Equal(0, vm.Mmu.DirectMapRmapEntries(FirstFree + 1));
        Assert.True(vm.Mmu.KernelMapWritable(Stack));
        Assert.False(vm.Mmu.KernelMapWritable(Swapper));
        Assert.False(vm.Mmu.KernelMapWritable(Pud));
        Assert.False(vm.Mmu.KernelMapWritable(Pmd));
    }

    /// <summary>
    /// A new root (the process's pgd, frame 20) has no spte in its kernel half yet: the first kernel
    /// access after the switch (reading the pgd) faults once to link pgd slot 272 to the shared pud
    /// page (a kvm_mmu_get_page hash hit). The pud page then has two parent sptes (the idle root's and
    /// this root's): pte_list_add allocates its desc. Nothing else is created; the spte of frame 20
    /// exists already (read-only: the CR3 load shadowed it as a root), and the run 21-23 after it stays
    /// open, so nothing is prefetched.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void NewRoot_FaultsOnceToLinkTheSharedKernelHalf(string policy)
    {
        MmuStats? s0 = null, s1 = null;
        int pudParents = 0;
        MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            s0 = MicroHarness.Snapshot(v.Vm.Mmu);
            Assert.Equal(0UL, await v.FindPteRead(p, GiB)); // reads the pgd through the direct map
            s1 = MicroHarness.Snapshot(v.Vm.Mmu);
            pudParents = v.Vm.Mmu.PagesOf(Pud).Single().ParentPtes.Count;
        }, $"policy={policy}");

        Assert.Equal(1, s1!.KernelFaults - s0!.KernelFaults);
        Assert.Equal(0, s1.PagesCreated - s0.PagesCreated);
        Assert.Equal(0, s1.ShadowPrefetched - s0.ShadowPrefetched);
        Assert.Equal(1, s1.DescAllocations - s0.DescAllocations);
        Assert.Equal(2, pudParents);
    }

    /// <summary>
    /// rmap entries of a process's frames: an anonymous page written by the process has two, its
    /// direct-map spte (clear_page wrote it through the direct map) and its user spte, so its rmap
    /// holds one pte_list_desc. Its leaf page table, shadowed by the user fault, has one: the
    /// direct-map spte, which kvm_mmu_get_page's rmap_write_protect made read-only.
    /// </summary>
    [Fact]
    public void DataPage_HasItsDirectMapAndUserSptes_AndTheTableIsWriteProtectedThroughItsRmap()
    {
        ulong data = 0, table = 0;
        var vm = MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            await v.Touch(p, GiB, write: true);
            ulong ptep = await v.FindPteRead(p, GiB);
            table = ptep >> 12;
            data = v.Mode.PteFrame(v.Vm.Memory.Read(ptep, 8));
        }, "policy=kvm-3.3");

        Assert.Equal(2, vm.Mmu.RmapCount(data));
        Assert.Equal(1, vm.Mmu.DirectMapRmapEntries(data));
        Assert.True(vm.Mmu.KernelMapWritable(data));
        Assert.Equal(1, vm.Mmu.RmapCount(table));
        Assert.Equal(1, vm.Mmu.DirectMapRmapEntries(table));
        Assert.False(vm.Mmu.KernelMapWritable(table));
    }

    /// <summary>
    /// The prefetch-drain copy (PrefetchDrainWorkload) with the direct map as sptes: each of the 64
    /// copied ptes maps a page whose rmap already has two entries (direct map and user), so each
    /// emulated element's prefetch is the third entry, which the desc allocated for the second
    /// holds (PTE_LIST_EXT 4): the copy allocates no desc and kvm-3.1 does not hit the BUG_ON.
    /// </summary>
    [Fact]
    public void PrefetchDrain_WithDirectMapSptes_TakesNoDesc()
    {
        MmuStats? s0 = null, s1 = null;
        MicroHarness.RunScript(async v =>
        {
            ulong src = GiB, dst = GiB + 2 * MiB;
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(src, dst + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            for (int i = 0; i < 64; i++) await v.Touch(p, src + (ulong)i * Page, write: true);
            await v.Touch(p, dst, write: true);
            ulong srcTable = v.FindPte(p, src) & ~0xfffUL;
            ulong dstTable = v.FindPte(p, dst) & ~0xfffUL;
            s0 = MicroHarness.Snapshot(v.Vm.Mmu);
            await v.Run(KernelOp.CopyPage, dstTable, srcTable, argc: 2);
            s1 = MicroHarness.Snapshot(v.Vm.Mmu);
        }, "policy=kvm-3.1", "mmu.unsync=false", "mmu.flood_detector=write-count");

        Assert.Equal(512, s1!.EmulatedElements - s0!.EmulatedElements);
        Assert.Equal(64, s1.PteWritePrefetched - s0.PteWritePrefetched);
        Assert.Equal(0, s1.DescAllocations - s0.DescAllocations);
        Assert.Equal(0, s1.Exhausted);
    }

    /// <summary>vm.direct_map: bit keeps farm-model-2's simplification: no direct pages, no kernel
    /// faults, and a process's data page has only its user spte in its rmap.</summary>
    [Fact]
    public void BitSwitch_KeepsOneBitPerFrame()
    {
        ulong data = 0;
        var vm = MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            await v.Touch(p, GiB, write: true);
            data = v.Mode.PteFrame(v.Vm.Memory.Read(v.FindPte(p, GiB), 8));
        }, "policy=kvm-3.3", "vm.direct_map=bit");

        Assert.Null(vm.DirectMap);
        Assert.Equal(0, vm.Mmu.Stats.KernelFaults);
        Assert.Equal(0, vm.Mmu.Stats.DirectPagesCreated);
        Assert.Equal(1, vm.Mmu.RmapCount(data));
    }
}
