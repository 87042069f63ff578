using Farm.Simulation.Guest;
using Farm.Simulation.Kvm;
using Farm.Simulation.X86;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// A PAE guest's roots: load_pdptrs at CR3 load (x86.c:425-458 in 3.1.10, 426-459 in 3.3.8),
/// mmu_alloc_shadow_roots' level-2 root per present PDPTE (mmu.c:2768-2792 / 2773-2797),
/// pdptrs_changed on a same-CR3 write, and FNAME(walk_addr)'s top level from the loaded PDPTEs.
/// </summary>
public class PaeRootsTests
{
    private static readonly string[] Pae = ["vm.paging=pae", "guest.flavour=linux-3.x-pae"];

    private static ulong Pdpte(GuestVm vm, ulong pgd, int i) => vm.Memory.Read((pgd << 12) + 8 * (ulong)i, 8);

    [Fact]
    public void Cr3Load_MakesOneLevel2RootPerPresentPdpte_TheKernelPmdSharedByAll()
    {
        var idleRoots = new int[2][];
        var procRoots = new int[2][];
        var pgds = new ulong[2];
        var vm = MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            idleRoots[v.Id] = (int[])v.Kvm.Roots.Clone();
            var p = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            procRoots[v.Id] = (int[])v.Kvm.Roots.Clone();
            pgds[v.Id] = p.PgdGfn;
        }, [.. Pae, "vm.vcpus=2"]);

        for (int c = 0; c < 2; c++)
        {
            // The idle pgd (swapper_pg_dir) has only the kernel PDPTE: pae_root[0..2] = 0, no page, no lock.
            Assert.Equal(new[] { -1, -1, -1 }, idleRoots[c][..3]);
            for (int i = 0; i < 4; i++)
            {
                var root = vm.Mmu.Page(procRoots[c][i]);
                Assert.Equal(vm.Mode.PteFrame(Pdpte(vm, pgds[c], i)), root.Gfn); // the page directory, not the PDPT
                Assert.Equal(new MmuRole(2, Cr4Pae: true, Quadrant: 0, Direct: false, MmuRole.AccAll, Invalid: false), root.Role);
            }
        }
        // PDPTE 3 of both pgds names the one shared kernel pmd: one shadow page, the idle roots' too.
        Assert.Equal(vm.KernelPmdGfn, vm.Mode.PteFrame(Pdpte(vm, pgds[0], 3)));
        Assert.Equal(procRoots[0][3], procRoots[1][3]);
        Assert.Equal(idleRoots[0][3], procRoots[0][3]);
        Assert.NotEqual(procRoots[0][0], procRoots[1][0]);
        // Shadow pages: the kernel pmd once, then 3 user page directories per process.
        Assert.Equal(1 + 2 * 3, vm.Mmu.Stats.PagesCreated);
    }

    [Fact]
    public void SameCr3Write_AfterThePdptChanged_ReloadsTheRoots()
    {
        ulong oldRoot1 = 0, newRoot1 = 0, pmd2 = 0;
        long pagesCreated = 0;
        var vm = MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            oldRoot1 = v.Vm.Mmu.Page(v.Kvm.Roots[1]).Gfn;
            pmd2 = v.Vm.Mode.PteFrame(Pdpte(v.Vm, p.PgdGfn, 2));
            // PDPTE 1 now names PDPTE 2's page directory (the PDPT is not shadowed: no exit).
            v.Vm.Memory.Write((p.PgdGfn << 12) + 8, 8, v.Vm.PdpteFor(pmd2));
            await v.FlushTlb(); // same CR3: pdptrs_changed, so kvm_set_cr3 takes the new-CR3 path
            newRoot1 = v.Vm.Mmu.Page(v.Kvm.Roots[1]).Gfn;
            pagesCreated = v.Vm.Mmu.Stats.PagesCreated;
        }, Pae);

        Assert.NotEqual(oldRoot1, newRoot1);
        Assert.Equal(pmd2, newRoot1);
        // Roots 0, 2, 3 are hash hits, and root 1 is root 2's page (same gfn, same role): nothing new.
        Assert.Equal(1 + 3, pagesCreated);
    }

    [Fact]
    public void Walk_TakesThePdpteFromTheLoadedCopy_AndIgnoresItsReservedRwAndUsBits()
    {
        const ulong Pdpt = 1, Pd = 2, Pt = 3, Data = 4, Other = 5;
        const ulong va = 0x4020_3000; // PDPTE 1, pd index 1, pt index 3
        var mode = PagingMode.Pae;
        var memory = new GuestMemory(16 * 4096);
        const ulong Upper = PagingMode.Present | PagingMode.Rw | PagingMode.User | PagingMode.Accessed;
        memory.Write((Pd << 12) + 8 * 1, 8, mode.MakePte(Pt, Upper));
        memory.Write((Pt << 12) + 8 * 3, 8, mode.MakePte(Data, Upper | PagingMode.Dirty));
        // Memory's PDPT says "not present"; the PDPTEs loaded at CR3 time say present (P only).
        var pdptrs = new ulong[4];
        pdptrs[1] = mode.MakePte(Pd, PagingMode.Present);
        var w = new GuestWalk();
        GuestWalker.Walk(memory, mode, Pdpt << 12, va, write: true, user: true, w, pdptrs);
        Assert.True(w.Ok);
        Assert.True(w.Writable && w.User);
        Assert.Equal(Data, w.Gfn);
        Assert.Equal(new ulong[] { Pdpt, Pd, Pt }, new[] { w.TableGfn[3], w.TableGfn[2], w.TableGfn[1] });
        // A not-present PDPTE ends the walk (a #PF for the guest).
        pdptrs[1] = mode.MakePte(Other, 0);
        GuestWalker.Walk(memory, mode, Pdpt << 12, va, write: false, user: true, w, pdptrs);
        Assert.False(w.Ok);
    }
}
