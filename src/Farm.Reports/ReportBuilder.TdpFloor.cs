using Farm.Reports.Aggregation;
using Farm.Reports.Model;

namespace Farm.Reports;

/// <summary>
/// "vs the TDP floor" (docs/tdp.md): where a point of a workload ran policy tdp beside shadow
/// groups, how far each shadow group lies above it, and how much of kvm-3.1's shadow-paging
/// overhead (its elapsed time over tdp's) each preset or fix removes, with its band where a
/// sensitivity ran.
/// </summary>
public static partial class ReportBuilder
{
    public const string TdpPolicy = "tdp";

    /// <summary>The tdp-floor table of one comparison set; null without a plain tdp group and a shadow group.</summary>
    private static ReportTable? TdpFloorTable(string id, string workload, IReadOnlyList<TrialGroup> set, TimeFormat time, SensitivityAnalysis s)
    {
        var floor = set.FirstOrDefault(g => g.Policy == TdpPolicy && g.Switches.Count == 0);
        var shadow = set.Where(g => g.Policy != TdpPolicy).ToList();
        if (floor is null || shadow.Count == 0) return null;
        var before = shadow.FirstOrDefault(g => g.Policy == "kvm-3.1" && g.Switches.Count == 0);

        var rows = shadow.Select(g =>
        {
            var share = RemovedShare(g, before, floor);
            var band = before is null || ReferenceEquals(g, before) ? null : s.Share(g, before, floor)?.Band; // kvm-3.1's own share is 0 by definition
            return new TableRow(g.Variant,
            [
                MeanCell(g, Elapsed, time.Text),
                ChangeCell(g, floor, Elapsed),
                share is { } v
                    ? new TableCell(BandText(v, band, Format.Percent), v, new CellSource(g.Id, Elapsed, Statistic.GainShare, Against: before!.Id, Target: floor.Id),
                        Title: band is null ? "no sensitivity run on these groups" : $"band over {band.Draws} cost draws")
                    : new TableCell("–", Title: before is null ? "no kvm-3.1 group at this point" : "no completed trials, or no overhead"),
                MeanCell(g, "exits.total", Format.Count),
                MeanCell(g, "mmu_lock.acquisitions", Format.Count),
            ], g.Policy == "kvm-3.3" && g.Switches.Count == 0 ? RowKind.Summary : RowKind.Value, g.Label);
        }).ToList();

        TableColumn[] columns =
        [
            new($"elapsed ({time.Unit})"),
            new("over tdp", Title: $"mean elapsed time against {floor.Label}"),
            new("share of kvm-3.1's overhead removed", Title: "(mean of kvm-3.1 − mean) / (mean of kvm-3.1 − mean of tdp)"),
            new("exits"), new("mmu_lock acquisitions"),
        ];
        string at = set[0].Point.Count == 0 ? "" : $" at {set[0].PointLabel}";
        return new ReportTable(id, "tdp-floor", $"vs the TDP floor: {workload}{at}", TdpFloorLine(workload, shadow, before, floor, s),
            "group", columns, rows);
    }

    /// <summary>(mean of kvm-3.1 − mean) / (mean of kvm-3.1 − mean of tdp); null when a mean is missing or kvm-3.1 is not above tdp.</summary>
    private static double? RemovedShare(TrialGroup g, TrialGroup? before, TrialGroup floor)
    {
        double? m = g.Mean(Elapsed), b = before?.Mean(Elapsed), f = floor.Mean(Elapsed);
        return m is null || b is null || f is null || b == f ? null : (b - m) / (b - f);
    }

    /// <summary>The line: "pt-clear: kvm-3.1 is +12.0% over tdp (its shadow-paging overhead); kvm-3.3 +9.0%, which removes 25% of it (20%–31% in 90% of 20 cost draws)".</summary>
    private static string TdpFloorLine(string workload, IReadOnlyList<TrialGroup> shadow, TrialGroup? before, TrialGroup floor, SensitivityAnalysis s)
    {
        string Over(TrialGroup g) => g.RatioTo(floor, Elapsed) is { } r ? Format.Change(r) : "–";
        var parts = new List<string>();
        if (before is not null) parts.Add($"{before.Variant} is {Over(before)} over tdp (its shadow-paging overhead)");
        foreach (var g in shadow.Where(g => !ReferenceEquals(g, before)))
        {
            string removed = before is not null && RemovedShare(g, before, floor) is { } v
                ? $", which removes {Format.Percent(v)} of it" + (s.Share(g, before, floor)?.Band is { } b
                    ? $" ({Format.Percent(b.Low)}–{Format.Percent(b.High)} in {Format.Percent(b.Share)} of {b.Draws} cost draws)"
                    : "")
                : "";
            parts.Add($"{g.Variant} {Over(g)}{removed}");
        }
        return $"{workload}: {string.Join("; ", parts)}. Each row: mean elapsed time, its change against tdp (two-dimensional paging, no shadow " +
               "tables: docs/tdp.md), and the share of kvm-3.1's time over tdp that it removes" +
               (s.Any ? $", with the central {Format.Percent(Band.Coverage)} of the cost draws in brackets where a sensitivity ran." : ".");
    }
}
