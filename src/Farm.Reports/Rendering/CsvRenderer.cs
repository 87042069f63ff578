using System.Text;

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
                    I(g.Trials.Count), I(g.Completed.Count), I(g.HostBugs), I(g.Errors),
                ]);
            }
        return b.ToString();
    }

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
