using Farm.Simulation.Results;
using Xunit;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// Fix 3 on a PAE guest (workloads/micro/pae-high-half.yaml): set_pte stores the pte's high half,
/// then its low half, 4 bytes each, into a leaf table that cannot go unsync. Page 0's fault links
/// the leaf table into the page directory with set_pmd (one 8-byte cmpxchg8b on the write-protected
/// root of PDPTE 1) and creates the leaf's shadow page; each later page's set_pte is emulated.
/// </summary>
public class PaeHighHalfTests
{
    private const int Pages = 64;

    private static Results.TrialResult Run(params string[] sets) =>
        MicroHarness.Run("pae-high-half", ["vm.paging=pae", "guest.flavour=linux-3.x-pae", "mmu.unsync=false", $"workload.pages={Pages}", .. sets]);

    [Fact]
    public void Kvm31_ZapsTheLeafOnEveryHighHalfWrite()
    {
        var r = Run("policy=kvm-3.1");
        Assert.Equal(Outcome.Completed, r.Outcome);
        // The high half of pte i (i >= 1) is a 4-byte write at pte offset 4: gentry widens it to
        // 8 bytes, but 3.1 measures from the written offset, (4 ^ (4 + 8 - 1)) & ~7 != 0: misaligned,
        // one zap of the leaf's shadow page each. The low half then finds the frame unshadowed: its
        // write fault maps it writable, no emulation. The retried access re-creates the leaf.
        Assert.Equal(Pages - 1, r.Long("pte_write.bytes_4"));
        Assert.Equal(Pages - 1, r.Long("pte_write.misaligned"));
        Assert.Equal(Pages - 1, r.Long("zap.misaligned"));
        Assert.Equal(Pages - 1, r.Long("zap.pages"));
        Assert.Equal(1, r.Long("pte_write.bytes_8")); // page 0's set_pmd (cmpxchg8b) on the page directory
        Assert.Equal(Pages, r.Long("emulation.instructions")); // that cmpxchg8b and each high half
        // Roots: the kernel pmd (idle CR3), then the three user page directories; the leaf 64 times.
        Assert.Equal(4 + Pages, r.Long("shadow.pages_created"));
        // Write faults: the cmpxchg8b, then per later page its high half (emulated) and its low half.
        Assert.Equal(1 + 2 * (Pages - 1), r.Long("exits.write_protect"));
        // Each page: the injected #PF, then the retried access (page 0's leaf is new, later ones re-created).
        Assert.Equal(2 * Pages, r.Long("exits.page_fault"));
        // Every re-created leaf prefetches the present ptes below the faulting one in its group of 8.
        Assert.Equal(Pages / 8 * (0 + 1 + 2 + 3 + 4 + 5 + 6 + 7), r.Long("shadow.prefetched"));
    }

    [Fact]
    public void Kvm33_WidensBothHalves_AndZapsNothing()
    {
        var r = Run("policy=kvm-3.3");
        Assert.Equal(Outcome.Completed, r.Outcome);
        // Both halves of pte i (i >= 1) are emulated (a mov is page-table writing: never retried) and
        // widened to the aligned 8-byte pte: neither is misaligned.
        Assert.Equal(2 * (Pages - 1), r.Long("pte_write.bytes_4"));
        Assert.Equal(0, r.Long("pte_write.misaligned"));
        Assert.Equal(0, r.Long("zap.pages"));
        Assert.Equal(1 + 2 * (Pages - 1), r.Long("emulation.instructions"));
        Assert.Equal(1 + 2 * (Pages - 1), r.Long("pte_write.sptes_updated"));
        // The high half's gentry is the new high half (0) over the old, empty low half: 0, nothing to
        // install. The low half's gentry is the whole new pte: its spte is installed, so the retried
        // access hits without an exit.
        Assert.Equal(Pages - 1, r.Long("pte_write.prefetched"));
        Assert.Equal(1 + Pages, r.Long("exits.page_fault"));
        Assert.Equal(4 + 1, r.Long("shadow.pages_created"));
    }

    [Fact]
    public void OnlyTheMisalignmentSwitch_MovesKvm31ToKvm33Figures()
    {
        // 3.1's fork detector does not fire here: each page's injected #PF and its hit between the
        // halves and the next page leave at most two writes in a row to the leaf (threshold 3).
        var fixedOnly = Run("policy=kvm-3.1", "mmu.allow_low_byte_write=true");
        var after = Run("policy=kvm-3.3");
        foreach (var section in new[] { "exits", "emulation", "pte_write", "zap", "shadow" })
            Assert.Equal(after.Root[section]!.ToJsonString(), fixedOnly.Root[section]!.ToJsonString());
    }

    [Theory]
    [InlineData("x86-64", "linux-3.x")]
    [InlineData("i386", "linux-3.x-i386")]
    public void OtherModes_WriteThePteInOneStore_NothingMisaligned(string paging, string flavour)
    {
        var r = MicroHarness.Run("pae-high-half", $"vm.paging={paging}", $"guest.flavour={flavour}", "mmu.unsync=false",
            $"workload.pages={Pages}", "policy=kvm-3.1");
        Assert.Equal(Outcome.Completed, r.Outcome);
        // One emulated store per page: page 0's set_pmd into the root, then each later set_pte, all
        // of one pte's size (8 bytes on x86-64, 4 on i386): aligned, none misaligned.
        Assert.Equal(Pages, r.Long("pte_write.calls"));
        Assert.Equal(Pages, r.Long(paging == "i386" ? "pte_write.bytes_4" : "pte_write.bytes_8"));
        Assert.Equal(0, r.Long("zap.misaligned"));
    }
}
