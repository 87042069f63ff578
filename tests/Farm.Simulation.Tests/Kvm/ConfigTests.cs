using Farm.Simulation.Config;
using Xunit;
using Farm.Simulation.Results;

namespace Farm.Simulation.Tests.Kvm;

public class ConfigTests
{
    [Theory]
    [InlineData("mmu.bogus=1", "unknown key 'mmu.bogus'", "mmu.unsync")]
    [InlineData("vm.vcpus=lots", "vm.vcpus", "not an integer")]
    [InlineData("vm.vcpus=0", "vm.vcpus", "1..64")]
    [InlineData("mmu.unsync=maybe", "mmu.unsync", "valid: true, false")]
    [InlineData("policy=kvm-4.0", "policy", "kvm-3.1, kvm-3.3")]
    [InlineData("mmu.flood_detector=sometimes", "mmu.flood_detector", "last-spte-accessed, write-count")]
    [InlineData("cost.guest_ghz=fast", "cost.guest_ghz", "not a number")]
    [InlineData("vm.paging=pae64", "vm.paging", "x86-64, i386, pae")]
    [InlineData("guest.flavour=linux-3.x-pea", "guest.flavour", "linux-3.x-i386, linux-3.x-pae")]
    [InlineData("mmu.pages_max=8", "mmu.pages_max", "0 for KVM's default, or 64..16777216; KVM refuses fewer than KVM_MIN_ALLOC_MMU_PAGES = 64")]
    [InlineData("mmu.pages_max=63", "mmu.pages_max", "64..16777216")]
    [InlineData("mmu.pages_max=16777217", "mmu.pages_max", "0..16777216")]
    public void BadValues_NameTheKeyAndWhatIsValid(string set, string mentions, string valid)
    {
        var e = Assert.Throws<ConfigException>(() => SimConfig.Resolve(MicroHarness.Pairs([set])));
        Assert.Contains(mentions, e.Message);
        Assert.Contains(valid, e.Message);
    }

    /// <summary>0 asks for KVM's default; otherwise KVM's own floor, KVM_MIN_ALLOC_MMU_PAGES (64), up to the schema's maximum.</summary>
    [Theory]
    [InlineData("0")]
    [InlineData("64")]
    [InlineData("16777216")]
    public void PageBudgets_KvmAccepts_AreAccepted(string pages) =>
        Assert.Equal(pages, SimConfig.Resolve(MicroHarness.Pairs([$"mmu.pages_max={pages}"])).Text("mmu.pages_max"));

    [Fact]
    public void PresetSetsSwitches_ExplicitKeysWin()
    {
        var c = SimConfig.Resolve(MicroHarness.Pairs(["policy=kvm-3.1", "mmu.allow_low_byte_write=true"]));
        Assert.False(c.Bool("mmu.topup_on_pte_write"));
        Assert.True(c.Bool("mmu.allow_low_byte_write"));
        Assert.Equal("last-spte-accessed", c.Text("mmu.flood_detector"));
        var d = SimConfig.Resolve(MicroHarness.Pairs(["policy=kvm-3.3"]));
        Assert.True(d.Bool("mmu.topup_on_pte_write") && d.Bool("mmu.retry_non_pt_writes") && d.Bool("mmu.allow_low_byte_write"));
        Assert.Equal("write-count", d.Text("mmu.flood_detector"));
    }

    [Theory]
    [InlineData("i386", "linux-3.x")]
    [InlineData("pae", "linux-3.x-i386")]  // both 32-bit: the pte size tells them apart
    [InlineData("i386", "linux-3.x-pae")]
    [InlineData("x86-64", "linux-3.x-pae")]
    public void FlavourMustMatchPagingMode(string paging, string flavour)
    {
        // Resolving checks each key alone; PagingPairs.Check (run by WorkloadFile.ToTrial) and the VM both refuse the pair.
        var config = SimConfig.Resolve(MicroHarness.Pairs([$"vm.paging={paging}", $"guest.flavour={flavour}"]));
        var e = Assert.Throws<ConfigException>(() => PagingPairs.Check(config));
        Assert.Contains($"'{flavour}' is built for vm.paging", e.Message);
        Assert.Contains("pae with linux-3.x-pae", e.Message);
        var r = MicroHarness.Run("wrprotect", $"vm.paging={paging}", $"guest.flavour={flavour}");
        Assert.Equal(Outcome.Error, r.Outcome);
        Assert.Contains(e.Message, r.Error);
    }

    [Theory]
    [InlineData("x86-64", "linux-3.x")]
    [InlineData("x86-64", "recent")]
    [InlineData("i386", "linux-3.x-i386")]
    [InlineData("pae", "linux-3.x-pae")]
    public void MatchingPairs_PassTheCheck(string paging, string flavour) =>
        PagingPairs.Check(SimConfig.Resolve(MicroHarness.Pairs([$"vm.paging={paging}", $"guest.flavour={flavour}"])));
}
