using System.Text.Json;
using Xunit;

namespace Farm.Cli.Tests;

/// <summary><c>farm sweep</c> on a spec with <c>sensitivity:</c>, end to end; and <c>farm keys</c>.</summary>
public class SensitivitySweepTests
{
    [Fact]
    public void ASensitivitySweep_WritesTheBandAndTornado_InEveryFormat_AndARerunRunsNothing()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"farm-cli-sens-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string spec = Path.Combine(dir, "sens.yaml");
            File.WriteAllText(spec, $"""
                name: sens
                workload: {Path.Combine(FarmProcess.Root, "workloads", "micro", "wrprotect.yaml")}
                variants:
                  kvm-3.1: {"{"} policy: kvm-3.1 {"}"}
                  kvm-3.3: {"{"} policy: kvm-3.3 {"}"}
                sensitivity:
                  keys: [cost.exit, cost.emulate]
                  draws: 4
                """);
            // 2 ordinary trials, then 2 variants × (2 × 2 keys + 4 draws) = 16 sensitivity trials.
            var (code, _, err) = FarmProcess.Run("sweep", spec, "-o", Path.Combine(dir, "out"));
            Assert.True(code == 0, err);
            Assert.Contains("18 trials, 18 to run, 0 already stored", err);

            string html = File.ReadAllText(Path.Combine(dir, "out", "report.html"));
            Assert.Contains("data-plot=\"tornado\"", html);
            Assert.Contains("id=\"sensitivity-wrprotect\"", html);
            Assert.Contains("100% of 4 draws", html);
            string md = File.ReadAllText(Path.Combine(dir, "out", "report.md"));
            Assert.Contains("### Plot: Tornado: kvm-3.3", md);
            Assert.Contains("100% of 4 draws; it moves most with cost.", md);
            string csv = File.ReadAllText(Path.Combine(dir, "out", "report.csv"));
            Assert.Contains(",sensitivity.change.band_low,4,", csv);
            Assert.Contains(",sensitivity.change.high.cost.emulate,1,", csv);
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "out", "report.json")));
            var change = json.RootElement.GetProperty("sensitivity").GetProperty("changes").EnumerateArray().Single();
            var band = change.GetProperty("sensitivity").GetProperty("band");
            Assert.Equal(4, band.GetProperty("draws").GetInt32());
            Assert.True(band.GetProperty("low").GetDouble() <= band.GetProperty("high").GetDouble());
            Assert.Equal(2, change.GetProperty("sensitivity").GetProperty("one_at_a_time").GetArrayLength());

            // The same sweep again: every trial is stored, none runs.
            (code, _, err) = FarmProcess.Run("sweep", spec, "-o", Path.Combine(dir, "out"));
            Assert.True(code == 0, err);
            Assert.Contains("18 trials, 0 to run, 18 already stored", err);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } // best effort
        }
    }

    [Fact]
    public void Keys_ListsEveryCostKey_WithItsDefaultAndPlausibleRange()
    {
        var (code, stdout, _) = FarmProcess.Run("keys", "cost.");
        Assert.Equal(0, code);
        Assert.Matches(@"(?m)^cost\.exit\s+1600\s+1350\.\.2000\s", stdout);
        Assert.Matches(@"(?m)^cost\.guest_ghz\s+2\.5\s+2\.13\.\.2\.67\s", stdout);
        Assert.DoesNotContain("mmu.", stdout);
    }
}
