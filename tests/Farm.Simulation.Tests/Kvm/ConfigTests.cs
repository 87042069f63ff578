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
    public void BadValues_NameTheKeyAndWhatIsValid(string set, string mentions, string valid)
    {
        var e = Assert.Throws<ConfigException>(() => SimConfig.Resolve(MicroHarness.Pairs([set])));
        Assert.Contains(mentions, e.Message);
        Assert.Contains(valid, e.Message);
    }

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

    [Fact]
    public void FlavourMustMatchPagingMode()
    {
        var r = MicroHarness.Run("wrprotect", "vm.paging=i386", "guest.flavour=linux-3.x");
        Assert.Equal(Outcome.Error, r.Outcome);
        Assert.Contains("valid pairs", r.Error);
    }
}
