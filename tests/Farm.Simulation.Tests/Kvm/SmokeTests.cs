using Xunit;
using Xunit.Abstractions;

namespace Farm.Simulation.Tests.Kvm;

public class SmokeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("pt-clear", "kvm-3.1")]
    [InlineData("pt-clear", "kvm-3.3")]
    [InlineData("wrprotect", "kvm-3.1")]
    [InlineData("wrprotect", "kvm-3.3")]
    [InlineData("prefetch-drain", "kvm-3.1")]
    [InlineData("prefetch-drain", "kvm-3.3")]
    [InlineData("flood-reuse", "kvm-3.1")]
    [InlineData("flood-reuse", "kvm-3.3")]
    public void Runs(string kind, string policy)
    {
        var r = MicroHarness.Run(kind, $"policy={policy}");
        output.WriteLine(r.ToJson(withRun: false));
        Assert.True(r.Outcome is "completed" or "host-bug", r.Error);
    }
}
