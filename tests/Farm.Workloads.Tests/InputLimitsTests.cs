using System.Text;
using Farm.Simulation.Config;
using Farm.Workloads.Input;
using Xunit;

namespace Farm.Workloads.Tests;

/// <summary>
/// The guards every YAML, JSON and HOCON read goes through (docs/limits.md). Each hostile text
/// here killed the process before (a stack overflow is not an exception: exit 134), or made it
/// build a tree of billions of nodes; each must now be one ConfigException naming the limit.
/// </summary>
public class InputLimitsTests
{
    private static readonly InputLimits Limits = InputLimits.Default;

    private static string DeepYaml(int depth) => "name: x\nworkload: " + new string('[', depth) + new string(']', depth) + "\n";

    [Fact]
    public void YamlNested40000Deep_IsRefusedNamingTheDepthLimit()
    {
        var e = Assert.Throws<ConfigException>(() => GuardedYaml.Load(DeepYaml(40_000), "deep.yaml"));
        Assert.Equal("deep.yaml:2: mappings and sequences are nested more than 64 levels deep; the limit is 64 (docs/limits.md)", e.Message);
    }

    [Fact]
    public void YamlBlockNesting_CountsLikeFlowNesting()
    {
        // "a:" then an indented mapping, 70 times: 70 mappings inside the root one.
        var text = new StringBuilder();
        for (int i = 0; i < 70; i++) text.Append(new string(' ', 2 * i)).Append("a:\n");
        text.Append(new string(' ', 140)).Append("b: 1\n");
        var e = Assert.Throws<ConfigException>(() => GuardedYaml.Load(text.ToString(), "block.yaml"));
        Assert.Contains("nested more than 64 levels deep", e.Message);
    }

    [Fact]
    public void YamlAtTheDepthLimit_Loads()
    {
        // The root mapping is level 1, so a 63-deep list under a key is exactly 64 levels.
        var stream = GuardedYaml.Load(DeepYaml(Limits.MaxDepth - 1), "ok.yaml");
        Assert.Single(stream.Documents);
        Assert.Throws<ConfigException>(() => GuardedYaml.Load(DeepYaml(Limits.MaxDepth), "over.yaml"));
    }

    [Fact]
    public void BillionLaughs_IsRefusedOnTheNodeCount_NotOnMemory()
    {
        // a0 is 10 scalars; each a(i) is 10 aliases of a(i-1): a9 stands for 10^10 nodes in 200 bytes a line.
        var lines = new List<string> { "a0: &a0 [x, x, x, x, x, x, x, x, x, x]" };
        for (int i = 1; i < 10; i++) lines.Add($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]");
        var e = Assert.Throws<ConfigException>(() => GuardedYaml.Load(string.Join('\n', lines), "laughs.yaml"));
        // a0 11 nodes, a1 = 1 + 10 x 11 = 111, a2 = 1 111, a3 = 11 111, a4 = 111 111 > 100 000: line 5.
        Assert.Equal("laughs.yaml:5: more than 100,000 nodes (an alias counts as the nodes it stands for); the limit is 100,000 (docs/limits.md)", e.Message);
    }

    [Fact]
    public void ManyAliases_AreRefusedOnTheAliasCount()
    {
        string text = "a: &s x\nb: [" + string.Join(", ", Enumerable.Repeat("*s", Limits.MaxAliases + 1)) + "]\n";
        var e = Assert.Throws<ConfigException>(() => GuardedYaml.Load(text, "aliases.yaml"));
        Assert.Contains("more than 1,000 aliases; the limit is 1,000", e.Message);
    }

    [Fact]
    public void OversizedText_IsRefusedBeforeParsing()
    {
        string text = "name: x\n#" + new string('x', Limits.MaxChars) + "\n";
        var e = Assert.Throws<ConfigException>(() => GuardedYaml.Load(text, "big.yaml"));
        Assert.Equal($"big.yaml: the text is {text.Length.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} characters; the limit is 1,048,576 (docs/limits.md)", e.Message);
    }

    [Fact]
    public void NulCharacter_IsRefusedWithItsLine()
    {
        var e = Assert.Throws<ConfigException>(() => GuardedYaml.Load("name: x\nkind: pt\0clear\n", "nul.yaml"));
        Assert.StartsWith("nul.yaml:2: the text holds a NUL character", e.Message);
    }

    [Fact]
    public void JsonNested40000Deep_IsRefusedNamingTheDepthLimit()
    {
        string text = "{\"name\": " + new string('[', 40_000) + new string(']', 40_000) + "}";
        var e = Assert.Throws<ConfigException>(() => GuardedJson.Parse(text, "deep.json"));
        Assert.Equal("deep.json:1: objects and arrays are nested more than 64 levels deep; the limit is 64 (docs/limits.md)", e.Message);
    }

    [Fact]
    public void JsonWithTooManyValues_IsRefused()
    {
        string text = "[" + string.Join(",", Enumerable.Repeat("1", Limits.MaxNodes)) + "]"; // the array itself is one more
        var e = Assert.Throws<ConfigException>(() => GuardedJson.Check(text, "many.json"));
        Assert.Contains("more than 100,000 values; the limit is 100,000", e.Message);
        using var ok = GuardedJson.Parse("[" + string.Join(",", Enumerable.Repeat("1", Limits.MaxNodes - 1)) + "]", "ok.json");
        Assert.Equal(Limits.MaxNodes - 1, ok.RootElement.GetArrayLength());
    }

    [Fact]
    public void MalformedJson_NamesTheLine()
    {
        var e = Assert.Throws<ConfigException>(() => GuardedJson.Parse("{\n\"a\": }", "bad.json"));
        Assert.StartsWith("bad.json:2: malformed JSON", e.Message);
    }

    [Theory]
    [InlineData("braces", "a{")]
    [InlineData("dotted path", "a.")]
    public void HoconNested40000Deep_IsRefused(string what, string unit)
    {
        string text = string.Concat(Enumerable.Repeat(unit, 40_000)) + (unit == "a{" ? new string('}', 40_000) : "a = 1");
        var e = Assert.Throws<ConfigException>(() => HoconDepth.Check(text, "deep.conf"));
        Assert.True(e.Message.Contains("nested more than 64 levels deep"), what);
    }

    [Fact]
    public void RealHoconConfigs_PassTheDepthCheck()
    {
        foreach (string file in Directory.GetFiles(Path.Combine(Farm.Tests.Shared.RepoRoot.Path, "cluster-config"), "*.conf"))
            HoconDepth.Check(File.ReadAllText(file), file);
        HoconDepth.Check("a { b = \"x.y.z.{{{{\" } # ... {{{{\n c = 0.5", "quoted.conf"); // quotes and comments do not count
    }

    [Fact]
    public void InputFile_ADirectoryIsADirectory_NotMissing()
    {
        var e = Assert.Throws<ConfigException>(() => InputFile.ReadText(Path.GetTempPath(), "sweep file"));
        Assert.EndsWith("is a directory; give a file", e.Message);
        e = Assert.Throws<ConfigException>(() => InputFile.ReadText("/no/such/file.yaml", "sweep file"));
        Assert.Equal("sweep file '/no/such/file.yaml' does not exist", e.Message);
    }

    [Fact]
    public void InputFile_AnEndlessDevice_IsReadOnlyToTheLimit()
    {
        if (!File.Exists("/dev/zero")) return; // not a Unix host
        var e = Assert.Throws<ConfigException>(() => InputFile.ReadText("/dev/zero", "workload file", new InputLimits { MaxChars = 4096 }));
        Assert.Equal("workload file '/dev/zero' is over 4,096 characters; the limit is 4,096 (docs/limits.md)", e.Message);
    }

    [Theory]
    [InlineData("name: ~\nkind: pt-clear\n", "name is empty or null")]
    [InlineData("name: null\nkind: pt-clear\n", "name is empty or null")]
    [InlineData("name: w\nkind: ~\n", "kind is empty or null; valid: ")]
    public void WorkloadFile_NullNameOrKind_IsRefused(string text, string message)
    {
        var e = Assert.Throws<ConfigException>(() => WorkloadFile.Parse(text, "w.yaml"));
        Assert.Contains(message, e.Message);
        Assert.Equal("~", WorkloadFile.Parse("name: \"~\"\nkind: pt-clear\n", "w.yaml").Name); // quoted, it is text
    }
}
