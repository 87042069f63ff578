using System.Text.Json.Nodes;
using Farm.Reports.Model;
using Farm.Reports.Rendering;
using Farm.Simulation.Results;
using Xunit;

namespace Farm.Reports.Tests;

/// <summary>The "vs the TDP floor" table (docs/tdp.md, docs/reports.md): shadow groups against policy tdp.</summary>
public class TdpFloorReportTests
{
    private static readonly Lazy<IReadOnlyList<TrialResult>> PtClear = new(() =>
    {
        var results = new List<TrialResult>();
        foreach (var sets in new (string, string)[][] { [("policy", "kvm-3.1")], [("policy", "kvm-3.3")], [("policy", "tdp")], [("policy", "kvm-3.1"), ("mmu.retry_non_pt_writes", "true")] })
            foreach (string seed in new[] { "1", "2" })
                results.Add(Sweeps.Run("micro/pt-clear.yaml", [.. sets, ("seed", seed)]));
        return results;
    });

    private static double Mean(string policy, bool fix = false) => PtClear.Value
        .Where(r => r.Root["trial"]!["config"]!["policy"]!.ToString() == policy && (r.Root["trial"]!["config"]!["mmu.retry_non_pt_writes"]!.ToString() == "true") == (fix || policy != "kvm-3.1"))
        .Average(r => r.Double("time.elapsed_seconds"));

    [Fact]
    public void ATdpGroup_GivesEachShadowGroupItsOverheadAndTheShareRemoved()
    {
        var report = ReportBuilder.Build(PtClear.Value);
        var table = Assert.Single(report.Tables(), t => t.Kind == "tdp-floor");
        Assert.Equal("tdp-floor-pt-clear", table.Id);
        // One row per shadow group; tdp itself is the floor, not a row.
        Assert.Equal(["kvm-3.1", "kvm-3.1 + mmu.retry_non_pt_writes=true", "kvm-3.3"], table.Rows.Select(r => r.Label).Order(StringComparer.Ordinal));
        foreach (var cell in table.Cells().Where(c => c.Value is not null))
            Recompute.AssertClose(Recompute.Expected(report, cell.Source!, PtClear.Value), cell.Value!.Value, $"{table.Id} {cell.Source}");

        double a = Mean("kvm-3.1"), c = Mean("kvm-3.3"), t = Mean("tdp"), f = Mean("kvm-3.1", fix: true);
        Assert.True(t < c && c < a, $"pt-clear: tdp {t}, kvm-3.3 {c}, kvm-3.1 {a}");
        double Share(string label) => table.Rows.Single(r => r.Label == label).Cells[2].Value!.Value;
        Assert.Equal(0, Share("kvm-3.1"), 12);
        Assert.Equal((a - c) / (a - t), Share("kvm-3.3"), 12);
        Assert.Equal((a - f) / (a - t), Share("kvm-3.1 + mmu.retry_non_pt_writes=true"), 12);
        Assert.Equal(a / t - 1, table.Rows.Single(r => r.Label == "kvm-3.1").Cells[1].Value!.Value, 12);
        Assert.StartsWith($"pt-clear: kvm-3.1 is {Format.Change(a / t)} over tdp", table.Caption);
        Assert.Contains($"kvm-3.3 {Format.Change(c / t)}, which removes {Format.Percent((a - c) / (a - t))} of it", table.Caption);

        Assert.Contains("id=\"tdp-floor-pt-clear\"", HtmlRenderer.Render(report));
        Assert.Contains("vs the TDP floor: pt-clear", MarkdownRenderer.Render(report));
        // The stacked exit plot names the EPT violations, so tdp's bar adds up to its exits.
        foreach (var r in PtClear.Value)
            Assert.Equal(r.Long("exits.total"), ReportBuilder.ExitReasons.Sum(e => r.Long(e.Figure)));
    }

    [Fact]
    public void NoTdpGroup_NoTable()
    {
        var report = ReportBuilder.Build(PtClear.Value.Where(r => r.Root["trial"]!["policy"]!.ToString() != "tdp").ToList());
        Assert.DoesNotContain(report.Tables(), t => t.Kind == "tdp-floor");
    }

    /// <summary>A copy of <paramref name="r"/> with its elapsed time set and its own trial id.</summary>
    private static TrialResult Copy(TrialResult r, double elapsed, string id)
    {
        var root = JsonNode.Parse(Sweeps.With(r, ("time.elapsed_seconds", elapsed)).Root.ToJsonString())!.AsObject();
        root["trial"]!["id"] = $"{root["trial"]!["id"]}{id}";
        return new TrialResult(root);
    }

    [Fact]
    public void WithASensitivity_TheShareCarriesItsBand()
    {
        // Seed 1 of kvm-3.1 (A), kvm-3.3 (C) and tdp (T). At the sweep's costs A = 100, C = 80, T = 60:
        // C removes (100 − 80) / (100 − 60) = 50% of A's overhead. Draw d = 1..20: A = 100, C = 100 − d,
        // T = 50, share d / 50 = 2%..40%; 20 draws: one dropped at each end, band [4%, 38%], 18 of 20.
        TrialResult Seed1(string policy) => PtClear.Value.First(r => r.Root["trial"]!["config"]!["policy"]!.ToString() == policy
            && (long)r.Root["trial"]!["seed"]! == 1 && (policy != "kvm-3.1" || r.Root["trial"]!["config"]!["mmu.retry_non_pt_writes"]!.ToString() == "false"));
        TrialResult a = Seed1("kvm-3.1"), c = Seed1("kvm-3.3"), t = Seed1("tdp");
        var sens = new List<SensitivityTrial>();
        for (int d = 1; d <= 20; d++)
            foreach (var (centre, elapsed) in new[] { (a, 100.0), (c, 100.0 - d), (t, 50.0) })
                sens.Add(new SensitivityTrial(Copy(centre, elapsed, $"-draw{d}"), centre.Id, SensitivityRole.Parse($"draw:{d}")!));
        var report = ReportBuilder.Build([Copy(a, 100, ""), Copy(c, 80, ""), Copy(t, 60, "")], new ReportInfo { Sensitivity = sens });
        var table = Assert.Single(report.Tables(), x => x.Kind == "tdp-floor");
        var share = table.Rows.Single(r => r.Label == "kvm-3.3").Cells[2];
        Assert.Equal(0.5, share.Value!.Value, 12);
        Assert.Equal("50% [4%, 38%], 90% of 20 draws", share.Text);
        Assert.Contains("kvm-3.3 +33.3%, which removes 50% of it (4%–38% in 90% of 20 cost draws)", table.Caption);
        // kvm-3.1's own share is 0 by definition: no band.
        Assert.Equal("0%", table.Rows.Single(r => r.Label == "kvm-3.1").Cells[2].Text);
    }
}
