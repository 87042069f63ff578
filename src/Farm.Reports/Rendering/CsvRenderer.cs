using System.Text;
using Farm.Reports.Aggregation;

namespace Farm.Reports.Rendering;

/// <summary>
/// The statistics in long form (RFC 4180, comma separated, header row, LF line ends): one row per
/// group × figure. Numbers are exact (round-trip) with a dot; an empty field is a statistic that
/// does not exist (no completed trial; spread of a single trial; ratio without a baseline).
/// </summary>
public static class CsvRenderer
{
    public static readonly IReadOnlyList<string> Header =
    [
        "workload", "group", "label", "variant", "point", "policy", "baseline_group", "figure",
        "n", "mean", "sd", "ci95_low", "ci95_high", "min", "max", "ratio", "trials", "completed", "host_bug", "error",
    ];

    public static string Render(Model.Report report)
    {
        var b = new StringBuilder();
        Row(b, Header);
        foreach (var g in report.Data.Groups)
            foreach (string f in report.Data.Figures)
            {
                var s = g.Stat(f);
                Row(b,
                [
                    g.Workload, g.Id, g.Label, g.Variant, g.PointLabel, g.Policy, g.Baseline?.Id ?? "", f,
                    s.N.ToString(System.Globalization.CultureInfo.InvariantCulture), N(s.Mean), N(s.Sd), N(s.CiLow), N(s.CiHigh), N(s.Min), N(s.Max), N(g.Ratio(f)),
                    I(g.TrialCount), I(g.CompletedCount), I(g.HostBugs), I(g.Errors),
                ]);
            }
        foreach (var c in report.SensitivityChanges()) Sensitivity(b, c.Group, c.Against, "sensitivity.change", c.Change);
        foreach (var s in report.GainShares)
        {
            Derived(b, s.Fix, s.Before, "gain_share", s.Fix.CompletedCount, s.Share);
            if (s.Sensitivity is { } f) Sensitivity(b, s.Fix, s.Before, "sensitivity.gain_share", f);
        }
        return b.ToString();
    }

    /// <summary>
    /// Sensitivity rows (docs/reports.md): PREFIX.at_defaults, PREFIX.draws (n, mean, sd, min, max over the draws),
    /// PREFIX.band_low, PREFIX.band_high, PREFIX.band_share, PREFIX.low.KEY and PREFIX.high.KEY; the value is in mean.
    /// </summary>
    private static void Sensitivity(StringBuilder b, TrialGroup g, TrialGroup against, string prefix, SensitivityFigure f)
    {
        Derived(b, g, against, $"{prefix}.at_defaults", f.Seeds.Count, f.AtDefaults);
        var d = FigureStats.Of(f.DrawValues.ToList());
        Row(b, Fields(g, against, $"{prefix}.draws", d.N, d.Mean, d.Sd, d.Min, d.Max));
        if (f.Band is { } band)
        {
            Derived(b, g, against, $"{prefix}.band_low", band.Draws, band.Low);
            Derived(b, g, against, $"{prefix}.band_high", band.Draws, band.High);
            Derived(b, g, against, $"{prefix}.band_share", band.Draws, band.Share);
        }
        foreach (var k in f.Keys)
        {
            Derived(b, g, against, $"{prefix}.low.{k.Key}", f.Seeds.Count, k.AtLow);
            Derived(b, g, against, $"{prefix}.high.{k.Key}", f.Seeds.Count, k.AtHigh);
        }
    }

    private static void Derived(StringBuilder b, TrialGroup g, TrialGroup against, string figure, int n, double? value) =>
        Row(b, Fields(g, against, figure, n, value, null, null, null));

    private static string[] Fields(TrialGroup g, TrialGroup against, string figure, int n, double? mean, double? sd, double? min, double? max) =>
    [
        g.Workload, g.Id, g.Label, g.Variant, g.PointLabel, g.Policy, against.Id, figure,
        I(n), N(mean), N(sd), "", "", N(min), N(max), "", I(g.TrialCount), I(g.CompletedCount), I(g.HostBugs), I(g.Errors),
    ];

    private static string N(double? v) => v is { } x ? Format.Exact(x) : "";
    private static string I(int v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void Row(StringBuilder b, IReadOnlyList<string> fields)
    {
        for (int i = 0; i < fields.Count; i++)
        {
            if (i > 0) b.Append(',');
            string f = fields[i];
            if (f.IndexOfAny([',', '"', '\n', '\r']) >= 0) b.Append('"').Append(f.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            else b.Append(f);
        }
        b.Append('\n');
    }
}
