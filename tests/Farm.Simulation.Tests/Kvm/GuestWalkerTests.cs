using Farm.Simulation.Guest;
using Farm.Simulation.Kvm;
using Farm.Simulation.X86;
using Xunit;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// FNAME(walk_addr_generic) and FNAME(gpte_access) (paging_tmpl.h:104-118 and 141-319 in 3.1.10,
/// 104-118 and 141-323 in 3.3.8): the tables a walk passes, and W/U taken away by any level.
/// </summary>
public class GuestWalkerTests
{
    private const ulong Pml4 = 1, Pdpt = 2, Pd = 3, Pt = 4, Data = 5;
    private const ulong Va = 0x0000_0040_2060_3000; // indexes 0, 1, 3, 3 at levels 4..1
    private const ulong Upper = PagingMode.Present | PagingMode.Rw | PagingMode.User | PagingMode.Accessed;

    /// <summary>A 4-level walk to Data; the pd entry's flags and the leaf's flags are the test's.</summary>
    private static GuestWalk Walk(ulong pdeFlags, ulong leafFlags, bool write, bool user)
    {
        var mode = PagingMode.X86_64;
        var memory = new GuestMemory(16 * 4096);
        void Set(ulong table, int level, ulong child, ulong flags) =>
            memory.Write((table << 12) + (ulong)(mode.GuestIndex(Va, level) * 8), 8, mode.MakePte(child, flags));
        Set(Pml4, 4, Pdpt, Upper);
        Set(Pdpt, 3, Pd, Upper);
        Set(Pd, 2, Pt, pdeFlags);
        Set(Pt, 1, Data, leafFlags);
        var walk = new GuestWalk();
        GuestWalker.Walk(memory, mode, Pml4 << 12, Va, write, user, walk);
        return walk;
    }

    [Fact]
    public void Walk_RecordsTheTableOfEachLevel_AndTheLeafFrame()
    {
        var w = Walk(Upper, Upper | PagingMode.Dirty, write: true, user: true);
        Assert.True(w.Ok);
        Assert.Equal(new ulong[] { Pml4, Pdpt, Pd, Pt }, new[] { w.TableGfn[4], w.TableGfn[3], w.TableGfn[2], w.TableGfn[1] });
        Assert.Equal(Data, w.Gfn);
        Assert.True(w.Writable && w.User && w.Dirty);
        Assert.Equal(MmuRole.AccAll, w.AccessAbove[1]);
    }

    [Fact]
    public void AnUpperLevelWithoutUser_DeniesUserAccess_AndNarrowsTheAccessBelowIt()
    {
        var kernelOnly = Upper & ~PagingMode.User;
        var user = Walk(kernelOnly, Upper | PagingMode.Dirty, write: false, user: true);
        Assert.False(user.Ok);
        var kernel = Walk(kernelOnly, Upper | PagingMode.Dirty, write: true, user: false);
        Assert.True(kernel.Ok);
        // pt_access (the role.access of the shadow pages below the pd entry) loses U, keeps W.
        Assert.Equal(MmuRole.AccAll & ~GuestWalker.AccUser, kernel.AccessAbove[1]);
        Assert.False(kernel.User);
    }

    [Fact]
    public void AReadOnlyLeaf_DeniesWrites_AndGpteAccessDropsW()
    {
        var leaf = (Upper & ~PagingMode.Rw) | PagingMode.Dirty;
        Assert.False(Walk(Upper, leaf, write: true, user: true).Ok);
        Assert.True(Walk(Upper, leaf, write: false, user: true).Ok);
        Assert.Equal(GuestWalker.AccExec | GuestWalker.AccUser, GuestWalker.GpteAccess(leaf));
        Assert.Equal(MmuRole.AccAll, GuestWalker.GpteAccess(Upper));
    }
}
