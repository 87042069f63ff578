using Farm.Reports.Aggregation;
using Farm.Reports.Model;
using Farm.Simulation.Config;

namespace Farm.Reports;

/// <summary>The sensitivity tables and tornado plots of a workload, and the summary matrix of gain shares (docs/reports.md).</summary>
public static partial class ReportBuilder
{
    /// <summary>"-2.7% [-4.1%, -1.9%], 90% of 20 draws".</summary>
    public static string BandText(double? value, Band? band, Func<double, string> format) =>
        (value is { } v ? format(v) : "–") + (band is null ? "" : $" [{format(band.Low)}, {format(band.High)}], {Format.Percent(band.Share)} of {band.Draws} draws");

    private static string ChangeText(double change) => Format.Change(change + 1);

    /// <summary>"moves most with cost.a (…) and cost.b (…)"; null when no key was varied one at a time.</summary>
    public static string? TopKeysText(SensitivityFigure f, Func<double, string> format)
    {
        if (f.Keys.Count == 0) return null;
        var top = f.TopKeys.Select(k => SensitivityAnalysis.Describe(k, format)).ToList();
        return top.Count switch
        {
            0 => "no key moves it at the ends of its range",
            1 => $"it moves most with {top[0]}",
            _ => $"it moves most with {top[0]}, then {top[1]}",
        };
    }

    private static IEnumerable<SensitivityChange> Changes(IReadOnlyList<TrialGroup> set, SensitivityAnalysis s) =>
        set.Where(g => g.Baseline is { } b && !ReferenceEquals(g, b)).Select(g => s.Change(g, g.Baseline!)).OfType<SensitivityChange>();

    private static ReportTable? SensitivityTable(string id, string workload, IReadOnlyList<TrialGroup> set, SensitivityAnalysis s)
    {
        var changes = Changes(set, s).ToList();
        if (changes.Count == 0) return null;
        var rows = changes.Select(c =>
        {
            var f = c.Change;
            string seeds = string.Join(", ", f.Seeds);
            string sentence = $"{BandText(f.AtDefaults, f.Band, ChangeText)}" +
                              (TopKeysText(f, ChangeText) is { } top ? $"; {top}." : ".");
            return new TableRow(c.Group.Label,
            [
                ChangeCell(c.Group, c.Against, Elapsed),
                f.AtDefaults is { } d ? new TableCell(ChangeText(d), d, new CellSource(c.Group.Id, Elapsed, Statistic.SensitivityDefaults, Against: c.Against.Id), Title: $"seeds {seeds}") : new TableCell("–"),
                f.Band is { } b1 ? new TableCell(ChangeText(b1.Low), b1.Low, new CellSource(c.Group.Id, Elapsed, Statistic.BandLow, Against: c.Against.Id)) : new TableCell("–"),
                f.Band is { } b2 ? new TableCell(ChangeText(b2.High), b2.High, new CellSource(c.Group.Id, Elapsed, Statistic.BandHigh, Against: c.Against.Id)) : new TableCell("–"),
                new TableCell(f.Band is { } b3 ? $"{(int)Math.Round(b3.Share * b3.Draws)} of {b3.Draws} ({Format.Percent(b3.Share)})" + (f.DrawsRun > b3.Draws ? $"; {f.DrawsRun - b3.Draws} failed" : "") : "none",
                    f.Band?.Draws, Title: f.DrawsRun > 0 ? $"{f.DrawsRun} draws run" : null),
                new TableCell(string.Join(", ", f.TopKeys.Select(k => k.Key)) is { Length: > 0 } t ? t : "–"),
            ], Note: sentence);
        }).ToList();
        TableColumn[] columns =
        [
            new("change (all seeds)", Title: "mean elapsed time against the baseline, as in the before/after table"),
            new("change at the sweep's costs", Title: "over the sensitivity's seeds"),
            new("band low"), new("band high"),
            new("draws in band", IsText: true),
            new("moves most with", IsText: true),
        ];
        string at = set[0].Point.Count == 0 ? "" : $" at {set[0].PointLabel}";
        return new ReportTable(id, "sensitivity", $"Sensitivity to costs: {workload}{at}",
            $"How each change survives the cost estimates: the change of mean elapsed time against the baseline at the sweep's costs, " +
            $"and the band that holds the central {Format.Percent(Band.Coverage)} of Monte Carlo draws (Latin hypercube over the plausible ranges of {string.Join(", ", s.Keys.DefaultIfEmpty("the listed keys"))}; " +
            "every group of a draw shares its costs and seeds). The keys named move the change most when set alone to the ends of their ranges.",
            "group", columns, rows);
    }

    private static IEnumerable<ReportPlot> TornadoPlots(string slug, IReadOnlyList<TrialGroup> set, SensitivityAnalysis s)
    {
        foreach (var c in Changes(set, s))
        {
            var keys = c.Change.ByImpact;
            if (keys.Count == 0 || c.Change.AtDefaults is not { } centre) continue;
            string unit = "%";
            var low = new PlotSeries("key at the low end", "sensitivity.low", keys.Select(k => new PlotPoint(k.AtLow * 100, null, null)).ToList());
            var high = new PlotSeries("key at the high end", "sensitivity.high", keys.Select(k => new PlotPoint(k.AtHigh * 100, null, null)).ToList());
            string caption = $"Change of {c.Group.Variant} against {c.Against.Variant} ({unit}) with one cost key at a time at the low or high end of its plausible range, " +
                             $"the others at the sweep's values; the line is the change at the sweep's costs ({ChangeText(centre)}). Largest swing at the top." +
                             (c.Change.Band is { } b ? $" Monte Carlo band: {BandText(c.Change.AtDefaults, b, ChangeText)}." : "");
            yield return new ReportPlot($"plot-tornado-{slug}-{c.Group.Id}", "tornado", $"Tornado: {c.Group.Label}", caption, PlotShape.Tornado,
                $"change against {c.Against.Variant} (%)", "cost key", keys.Select(k => $"{k.Key} ({k.LowValue}–{k.HighValue})").ToList(), [low, high])
            { Reference = centre * 100 };
        }
    }

    /// <summary>
    /// The summary matrix: per workload (and axis point) with both presets, the share of the
    /// kvm-3.1 → kvm-3.3 gain each fix alone recovers, with its band where a sensitivity ran.
    /// </summary>
    private static (ReportTable? Table, List<GainShare> Shares) SummaryTable(Aggregate data, SensitivityAnalysis s)
    {
        var shares = new List<GainShare>();
        foreach (var w in data.Workloads)
            foreach (var set in w.ComparisonSets)
            {
                var before = set.FirstOrDefault(g => g.Policy == "kvm-3.1" && g.Switches.Count == 0);
                var after = set.FirstOrDefault(g => g.Policy == "kvm-3.3" && g.Switches.Count == 0);
                if (before is null || after is null) continue;
                foreach (var fix in set.Where(g => g.Policy == "kvm-3.1" && g.Switches.Count == 1))
                {
                    double? m = fix.Mean(Elapsed), b = before.Mean(Elapsed), a = after.Mean(Elapsed);
                    double? share = m is null || b is null || a is null || b == a ? null : (b - m) / (b - a);
                    shares.Add(new GainShare(w.Workload, set[0].PointLabel, $"{fix.Switches[0].Key}={fix.Switches[0].Value}", fix, before, after, share, s.Share(fix, before, after)));
                }
            }
        if (shares.Count == 0) return (null, shares);
        var order = ConfigSchema.Keys.Select(k => k.Name).ToList();
        // A column per fix: the sweep's variant name when it has one (fix2-retry), else the switch.
        static string Column(GainShare x) => x.Fix.VariantName ?? x.Switch;
        var switches = shares.OrderBy(x => order.IndexOf(x.Switch[..x.Switch.IndexOf('=')])).ThenBy(x => x.Switch, StringComparer.Ordinal)
            .Select(Column).Distinct().ToList();
        var helpOf = shares.GroupBy(Column).ToDictionary(g => g.Key, g => g.First().Switch);
        var rows = shares.GroupBy(x => (x.Workload, x.Point)).Select(r =>
        {
            var first = r.First();
            var cells = new List<TableCell> { ChangeCell(first.After, first.Before, Elapsed) };
            foreach (string sw in switches)
            {
                var x = r.FirstOrDefault(y => Column(y) == sw);
                if (x is null) { cells.Add(new TableCell("–", Title: "not run")); continue; }
                if (x.Share is not { } v) { cells.Add(new TableCell("–", Title: "no completed trials, or no gain")); continue; }
                var band = x.Sensitivity?.Band;
                cells.Add(new TableCell(BandText(v, band, Format.Percent), v,
                    new CellSource(x.Fix.Id, Elapsed, Statistic.GainShare, Against: x.Before.Id, Target: x.After.Id),
                    Title: band is null ? "no sensitivity run on this workload" : $"band over {band.Draws} cost draws"));
            }
            return new TableRow(first.Point.Length == 0 ? first.Workload : $"{first.Workload}, {first.Point}", cells);
        }).ToList();
        var columns = switches.Select(sw => new TableColumn(sw, Title: SwitchHelp(SwitchOf(helpOf[sw]), "alone"))).Prepend(new TableColumn("kvm-3.3 vs kvm-3.1")).ToList();
        var table = new ReportTable("summary-gain-share", "summary", "Summary: share of the kvm-3.1 → kvm-3.3 gain each fix recovers",
            "Per workload, each fix alone on kvm-3.1: (mean of kvm-3.1 − mean with the fix) / (mean of kvm-3.1 − mean of kvm-3.3). " +
            $"Where the sweep ran a sensitivity, the brackets hold the central {Format.Percent(Band.Coverage)} of its cost draws.",
            "workload", columns, rows);
        return (table, shares);
    }

    private static KeyValuePair<string, string> SwitchOf(string text) => KeyValuePair.Create(text[..text.IndexOf('=')], text[(text.IndexOf('=') + 1)..]);
}
