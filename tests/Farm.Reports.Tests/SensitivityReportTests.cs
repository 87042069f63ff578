using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Farm.Reports.Aggregation;
using Farm.Reports.Model;
using Farm.Reports.Rendering;
using Farm.Simulation.Results;
using Xunit;

namespace Farm.Reports.Tests;

/// <summary>The arithmetic of the sensitivity band, tornado and gain shares on a tiny fixed set, and how each format shows them.</summary>
public class SensitivityReportTests
{
    [Theory]
    // n draws, 90% central: drop ⌊n·0.05⌋ at each end.
    [InlineData(10, 0, 1.0)]
    [InlineData(19, 0, 1.0)]
    [InlineData(20, 1, 0.9)]
    [InlineData(39, 1, 37.0 / 39)]
    [InlineData(40, 2, 0.9)]
    public void Band_DropsTheSameNumberOfDrawsAtEachEnd(int n, int dropped, double share)
    {
        var values = Enumerable.Range(1, n).Select(i => (double)((i * 7) % n)).ToList(); // 0..n-1, shuffled
        var band = Band.Of(values)!;
        Assert.Equal(dropped, band.Low);
        Assert.Equal(n - 1 - dropped, band.High);
        Assert.Equal(share, band.Share, 12);
        Assert.Equal(n, band.Draws);
        Assert.Null(Band.Of([]));
    }

    private static TrialResult Small(string variant) => Sweeps.Small.First(r =>
        r.Root["trial"]!["workload"]!.ToString() == "pt-clear" && (long)r.Root["trial"]!["seed"]! == 1 && r.Root["trial"]!["config"]!["vm.vcpus"]!.ToString() == "1"
        && r.Root["trial"]!["config"]!["policy"]!.ToString() == (variant == "kvm-3.3" ? "kvm-3.3" : "kvm-3.1")
        && r.Root["trial"]!["config"]!["mmu.allow_low_byte_write"]!.ToString() == (variant == "kvm-3.1" ? "false" : "true"));

    /// <summary>A copy of <paramref name="r"/> as another trial: elapsed time set, a cost key set, its own id; a failed one when <paramref name="failed"/>.</summary>
    private static TrialResult Copy(TrialResult r, double elapsed, string? key = null, string? value = null, string id = "", bool failed = false)
    {
        var root = JsonNode.Parse(Sweeps.With(r, ("time.elapsed_seconds", elapsed)).Root.ToJsonString())!.AsObject();
        if (key is not null) root["trial"]!["config"]![key] = value;
        root["trial"]!["id"] = $"{root["trial"]!["id"]}{id}";
        if (failed)
        {
            root["outcome"] = "error";
            root["error"] = "made to fail by the test";
        }
        return new TrialResult(root);
    }

    /// <summary>
    /// kvm-3.1 (A), kvm-3.3 (C), fix 3 alone (F), seed 1. At the sweep's costs A = 100, C = 80, F = 90:
    /// change C/A − 1 = −20%, share of F (A − F)/(A − C) = 50%. One at a time: cost.exit low C = 95 (−5%),
    /// high C = 70 (−30%); cost.emulate low C = 90 (−10%), high C = 85 (−15%); A = 100 and F = 90 throughout.
    /// Draw d = 1..20: A = 100, C = 100 − d (change −d%), F = 100 − d/2 (share 50%); draw 21 failed on C.
    /// </summary>
    private static Report Tiny()
    {
        TrialResult a = Small("kvm-3.1"), c = Small("kvm-3.3"), f = Small("fix3");
        var ordinary = new List<TrialResult> { Copy(a, 100), Copy(c, 80), Copy(f, 90) };
        var sens = new List<SensitivityTrial>();
        void Add(TrialResult centre, double elapsed, string role, string? key, string? value, bool failed = false) =>
            sens.Add(new SensitivityTrial(Copy(centre, elapsed, key, value, "-" + role, failed), centre.Id, SensitivityRole.Parse(role)!));
        foreach (var (role, value, cValue) in new[] { ("low:cost.exit", "1350", 95.0), ("high:cost.exit", "2000", 70.0), ("low:cost.emulate", "2000", 90.0), ("high:cost.emulate", "2900", 85.0) })
        {
            string key = role[(role.IndexOf(':') + 1)..];
            Add(a, 100, role, key, value);
            Add(c, cValue, role, key, value);
            Add(f, 90, role, key, value);
        }
        for (int d = 1; d <= 21; d++)
        {
            Add(a, 100, $"draw:{d}", null, null);
            Add(c, 100 - d, $"draw:{d}", null, null, failed: d == 21);
            Add(f, 100 - d / 2.0, $"draw:{d}", null, null);
        }
        return ReportBuilder.Build(ordinary, new ReportInfo { Title = "tiny", Sensitivity = sens });
    }

    [Fact]
    public void TheChange_ItsBand_AndTheKeysThatMoveIt_OnATinyFixedSet()
    {
        var report = Tiny();
        var change = report.SensitivityChanges().Single(x => x.Group.Policy == "kvm-3.3").Change;
        Assert.Equal(-0.20, change.AtDefaults!.Value, 12);
        Assert.Equal([1L], change.Seeds);
        Assert.Equal(21, change.DrawsRun);
        Assert.Equal(20, change.DrawValues.Count); // the failed draw is left out
        // 20 draws −1% … −20%: drop one at each end: [−19%, −2%], 90% of draws.
        Assert.Equal(new Band(20, -0.19, -0.02, 0.9), change.Band! with { Low = Math.Round(change.Band!.Low, 12), High = Math.Round(change.Band.High, 12) });
        Assert.Equal(["cost.exit", "cost.emulate"], change.ByImpact.Select(k => k.Key));
        var exit = change.ByImpact[0];
        Assert.Equal(("1350", "2000"), (exit.LowValue, exit.HighValue));
        Assert.Equal(-0.05, exit.AtLow!.Value, 12);
        Assert.Equal(-0.30, exit.AtHigh!.Value, 12);
        Assert.Equal(0.25, exit.Swing, 12);

        var fix = report.SensitivityChanges().Single(x => x.Group.Switches.Count == 1).Change;
        Assert.Equal(-0.10, fix.AtDefaults!.Value, 12);
        Assert.Empty(fix.TopKeys); // F is 90 at both ends of both keys: nothing moves it

        var share = report.GainShares.Single();
        Assert.Equal(0.5, share.Share!.Value, 12);
        Assert.Equal(0.5, share.Sensitivity!.AtDefaults!.Value, 12);
        Assert.Equal(0.5, share.Sensitivity.Band!.Low, 12);
        Assert.Equal(0.5, share.Sensitivity.Band.High, 12);
        Assert.Equal(20, share.Sensitivity.Band.Draws);
        // one at a time: cost.exit low (100−90)/(100−95) = 200%, high (100−90)/(100−70) = 33.3%
        var shareExit = share.Sensitivity.Keys.Single(k => k.Key == "cost.exit");
        Assert.Equal(2.0, shareExit.AtLow!.Value, 12);
        Assert.Equal(1 / 3.0, shareExit.AtHigh!.Value, 12);
    }

    [Fact]
    public void EveryFormat_ShowsTheBand_TheTornado_AndTheSummaryMatrix()
    {
        var report = Tiny();
        var c = report.Data.Groups.Single(g => g.Policy == "kvm-3.3");
        var f = report.Data.Groups.Single(g => g.Switches.Count == 1);
        const string line = "-20.0% [-19.0%, -2.0%], 90% of 20 draws; it moves most with cost.exit (-5.0% at 1350 to -30.0% at 2000), then cost.emulate (-10.0% at 2000 to -15.0% at 2900)";

        string html = HtmlRenderer.Render(report);
        Assert.Contains($"id=\"plot-tornado-pt-clear-{c.Id}\" class=\"plot\" data-plot=\"tornado\"", html);
        Assert.Contains("<svg", html[html.IndexOf($"plot-tornado-pt-clear-{c.Id}", StringComparison.Ordinal)..]);
        Assert.Contains("id=\"sensitivity-pt-clear\"", html);
        Assert.Contains("id=\"summary-gain-share\"", html);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(line), html);
        Assert.Contains($"data-group=\"{c.Id}\" data-stat=\"bandlow\"", html);

        string md = MarkdownRenderer.Render(report);
        Assert.Contains(line.Replace("[", "\\[").Replace("]", "\\]"), md);
        Assert.Contains("### Plot: Tornado: kvm-3.3", md);
        Assert.Contains("| pt-clear | -20.0% | 50% \\[50%, 50%\\], 90% of 20 draws |", md);

        var csv = CsvRenderer.Render(report).Split('\n').Select(l => l.Split(',')).ToList();
        string Csv(string group, string figure) => csv.Single(r => r.Length > 9 && r[1] == group && r[7] == figure)[9];
        Assert.Equal(-0.19, double.Parse(Csv(c.Id, "sensitivity.change.band_low"), CultureInfo.InvariantCulture), 12);
        Assert.Equal(-0.02, double.Parse(Csv(c.Id, "sensitivity.change.band_high"), CultureInfo.InvariantCulture), 12);
        Assert.Equal(-0.30, double.Parse(Csv(c.Id, "sensitivity.change.high.cost.exit"), CultureInfo.InvariantCulture), 12);
        Assert.Equal(0.5, double.Parse(Csv(f.Id, "gain_share"), CultureInfo.InvariantCulture), 12);
        Assert.Equal(0.5, double.Parse(Csv(f.Id, "sensitivity.gain_share.band_low"), CultureInfo.InvariantCulture), 12);

        using var json = JsonDocument.Parse(JsonRenderer.Render(report));
        var s = json.RootElement.GetProperty("sensitivity");
        Assert.Equal(["cost.exit", "cost.emulate"], s.GetProperty("keys").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(21, s.GetProperty("draws").GetInt32());
        var change = s.GetProperty("changes").EnumerateArray().Single(x => x.GetProperty("group").GetString() == c.Id).GetProperty("sensitivity");
        Assert.Equal(-0.19, change.GetProperty("band").GetProperty("low").GetDouble(), 12);
        Assert.Equal(0.9, change.GetProperty("band").GetProperty("share").GetDouble(), 12);
        Assert.Equal(["cost.exit", "cost.emulate"], change.GetProperty("top_keys").EnumerateArray().Select(k => k.GetString()));
        var gain = json.RootElement.GetProperty("gain_shares").EnumerateArray().Single();
        Assert.Equal(0.5, gain.GetProperty("share").GetDouble(), 12);
        Assert.Equal("mmu.allow_low_byte_write=true", gain.GetProperty("fix").GetString());
    }

    [Fact]
    public void WithoutASensitivity_TheSummaryMatrixStillShowsEachFixsShare()
    {
        var report = ReportBuilder.Build(Sweeps.Small, new ReportInfo());
        Assert.False(report.Sensitivity.Any);
        var table = report.SummaryTable!;
        Assert.Equal(["pt-clear, vm.vcpus=1", "pt-clear, vm.vcpus=2", "wrprotect, vm.vcpus=1", "wrprotect, vm.vcpus=2"], table.Rows.Select(r => r.Label));
        Assert.Equal(["kvm-3.3 vs kvm-3.1", "mmu.topup_on_pte_write=true", "mmu.retry_non_pt_writes=true", "mmu.allow_low_byte_write=true", "mmu.flood_detector=write-count"],
            table.Columns.Select(c => c.Header));
        Assert.DoesNotContain(table.Cells(), c => c.Text.Contains('['));
        Assert.DoesNotContain(report.Sections.SelectMany(s => s.Tables), t => t.Kind == "sensitivity");
    }
}
