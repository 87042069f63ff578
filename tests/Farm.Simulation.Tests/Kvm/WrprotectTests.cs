using Xunit;
using Farm.Simulation.Results;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>Problem 3: lock andb on the low byte of a pte in a page table that cannot go unsync.</summary>
public class WrprotectTests
{
    private const int Pages = 64;

    private static Results.TrialResult Run(params string[] sets) =>
        MicroHarness.Run("wrprotect", [.. sets, "mmu.unsync=false", $"workload.pages={Pages}"]);

    [Theory]
    [InlineData("x86-64", "linux-3.x")]
    [InlineData("i386", "linux-3.x-i386")]
    public void Kvm31_ZapsTheShadowPageOnEveryAndb(string paging, string flavour)
    {
        var r = Run("policy=kvm-3.1", $"vm.paging={paging}", $"guest.flavour={flavour}");
        Assert.Equal(Outcome.Completed, r.Outcome);
        // Each andb is a 1-byte write: "shorter than 4 bytes" is misaligned in 3.1. The page table is
        // re-shadowed by the next demand fault, so every one of them finds a shadow page to zap.
        Assert.Equal(Pages, r.Long("pte_write.bytes_1"));
        Assert.Equal(Pages, r.Long("zap.misaligned"));
        Assert.Equal(Pages, r.Long("pte_write.misaligned"));
    }

    [Theory]
    [InlineData("x86-64", "linux-3.x", 1)]
    [InlineData("i386", "linux-3.x-i386", 2)]
    public void Kvm33_DropsOnlyTheWrittenSpte(string paging, string flavour, int sptesPerPgdWrite)
    {
        var r = Run("policy=kvm-3.3", $"vm.paging={paging}", $"guest.flavour={flavour}");
        Assert.Equal(Outcome.Completed, r.Outcome);
        Assert.Equal(Pages, r.Long("pte_write.bytes_1"));
        Assert.Equal(0, r.Long("zap.pages"));
        // Each andb drops the one spte it wrote; so does each demand fault's set_pte once the table
        // is shadowed (after the first fault); plus the first fault's pgd link, whose write touches
        // one spte on x86-64 and two on a 32-bit guest (a 4 MiB pde is two 2 MiB shadow pdes).
        Assert.Equal(Pages + (Pages - 1) + sptesPerPgdWrite, r.Long("pte_write.sptes_updated"));
    }

    [Fact]
    public void OnlyTheLowByteSwitch_MovesKvm31ToKvm33Figures()
    {
        var before = Run("policy=kvm-3.1");
        var fixedOnly = Run("policy=kvm-3.1", "mmu.allow_low_byte_write=true");
        var after = Run("policy=kvm-3.3");
        Assert.NotEqual(before.Long("zap.pages"), after.Long("zap.pages"));
        foreach (var section in new[] { "exits", "emulation", "pte_write", "zap", "shadow" })
            Assert.Equal(after.Root[section]!.ToJsonString(), fixedOnly.Root[section]!.ToJsonString());
    }
}
