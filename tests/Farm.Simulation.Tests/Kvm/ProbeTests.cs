using Xunit;
using Xunit.Abstractions;

namespace Farm.Simulation.Tests.Kvm;

public class ProbeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("wrprotect", "policy=kvm-3.1", "mmu.unsync=false")]
    [InlineData("wrprotect", "policy=kvm-3.3", "mmu.unsync=false")]
    [InlineData("wrprotect", "policy=kvm-3.1", "mmu.unsync=false", "mmu.allow_low_byte_write=true")]
    [InlineData("prefetch-drain", "policy=kvm-3.1", "mmu.unsync=false")]
    [InlineData("prefetch-drain", "policy=kvm-3.1", "mmu.unsync=false", "mmu.topup_on_pte_write=true")]
    [InlineData("pt-clear", "policy=kvm-3.3")]
    public void Probe(string kind, params string[] sets)
    {
        var r = MicroHarness.Run(kind, sets);
        foreach (var (p, v) in r.Figures()) if (v != 0 && !p.Contains("cycles") && !p.StartsWith("time")) output.WriteLine($"{p} = {v}");
        output.WriteLine(r.Outcome + " " + r.Error);
    }
}
