using Farm.Cluster.Sweeps;
using Farm.Simulation.Config;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>
/// Sixth-round review: a sweep's name had to be printable, but a variant's or a workload's name
/// could hold an escape sequence or a line break, submitted over the API and then written raw into
/// the Markdown report that `farm report ID` prints on the operator's terminal (colours, a rewritten
/// title, a line that looks like another). Both are refused now, naming the place.
/// </summary>
public class ControlCharacterNameTests
{
    private static readonly Dictionary<string, string> Texts = new() { ["w.yaml"] = "kind: pt-clear\n" };

    [Theory]
    [InlineData("\"fix\\e[31m1\"")]
    [InlineData("\"two\\nlines\"")]
    [InlineData("\"bell\\a\"")]
    public void AVariantNameWithAControlCharacter_IsRefused(string yamlName)
    {
        var e = Assert.Throws<ConfigException>(() => SweepSpec.Parse($"name: s\nworkload: w.yaml\nvariants:\n  {yamlName}: {{policy: kvm-3.1}}\n", null, workloadTexts: Texts));
        Assert.Contains("sweep:4: variants: a variant name holds a control character", e.Message);
    }

    [Theory]
    [InlineData("\"evil\\e]0;owned\\a\"")]
    [InlineData("\"evil\\nFAKE fail: forged line\"")]
    public void AWorkloadNameWithAControlCharacter_IsRefused(string yamlName)
    {
        var texts = new Dictionary<string, string> { ["w.yaml"] = $"name: {yamlName}\nkind: pt-clear\n" };
        var e = Assert.Throws<ConfigException>(() => SweepSpec.Parse("name: s\nworkload: w.yaml\n", null, workloadTexts: texts));
        Assert.Contains("w.yaml:1: name holds a control character", e.Message);
    }

    [Fact]
    public void PrintableNames_AreStillTaken()
    {
        var texts = new Dictionary<string, string> { ["w.yaml"] = "name: \"pt-clear <b>ü</b>\"\nkind: pt-clear\n" };
        var spec = SweepSpec.Parse("name: s\nworkload: w.yaml\nvariants:\n  \"fix 1 <img> ü\": {policy: kvm-3.1}\n", null, workloadTexts: texts);
        Assert.Equal("fix 1 <img> ü", Assert.Single(spec.Variants).Name);
    }
}
