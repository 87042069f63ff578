using Farm.Reports.Aggregation;
using Farm.Reports.Model;
using Farm.Simulation.Config;
using Farm.Simulation.Results;

namespace Farm.Reports;

/// <summary>The tables of a workload: before/after, ablation, groups, every figure; and the failures.</summary>
public static partial class ReportBuilder
{
    private static ReportTable BeforeAfter(string id, string workload, IReadOnlyList<TrialGroup> set, TimeFormat time, IReadOnlyList<string> figures)
    {
        var columns = set.Select(g => new TableColumn(g.Variant + (g.IsBaseline ? " (baseline)" : ""), g.Id, g.IsBaseline, g.Label)).ToList();
        var rows = new List<TableRow>();
        foreach (long seed in set.SelectMany(g => g.Trials).Select(t => t.Seed).Distinct().Order())
            rows.Add(new TableRow($"seed {seed}", set.Select(g => RunCell(g, seed, time)).ToList()));
        if (set.Any(g => g.TrialCount > g.Trials.Count))
            rows.Add(new TableRow($"… more seeds (the first {ReportLimits.TrialRowsPerGroup} of each group are listed; every seed is in the statistics)",
                set.Select(_ => TableCell.Blank).ToList(), RowKind.Heading));
        rows.Add(new TableRow("mean", set.Select(g => MeanCell(g, Elapsed, time.Text)).ToList(), RowKind.Summary));
        rows.Add(new TableRow("± 95% CI", set.Select(g => StatCell(g, Elapsed, Statistic.CiHalfWidth, time.Text)).ToList()));
        rows.Add(new TableRow("stdev", set.Select(g => StatCell(g, Elapsed, Statistic.Sd, time.Text)).ToList()));
        rows.Add(new TableRow("vs baseline", set.Select(g => ChangeCell(g, g.Baseline, Elapsed)).ToList()));
        if (set.Any(g => g.FailedCount > 0))
            rows.Add(new TableRow("failed trials", set.Select(FailedCountCell).ToList()));
        rows.Add(new TableRow("means over completed runs", set.Select(_ => TableCell.Blank).ToList(), RowKind.Heading));
        foreach (var (label, figure) in Explaining.Where(e => figures.Contains(e.Figure)))
            rows.Add(new TableRow(label, set.Select(g => MeanCell(g, figure, Format.Count)).ToList(), Title: figure));

        string at = set[0].Point.Count == 0 ? "" : $" at {set[0].PointLabel}";
        return new ReportTable(id, "before-after", $"Before/after: {workload}{at}",
            $"Elapsed time of each run (by seed) and its mean per group, in {time.Unit}; changes are of the mean against the baseline. " +
            "Below: means of the figures that explain the difference.",
            "", columns, rows);
    }

    /// <summary>
    /// Each fix alone against both presets: the groups of <paramref name="set"/> that differ from
    /// kvm-3.1 (or kvm-3.3) by exactly one mmu.* switch, with the presets themselves. Null when
    /// the set has no such group or neither preset.
    /// </summary>
    private static ReportTable? Ablation(string id, string workload, IReadOnlyList<TrialGroup> set, TimeFormat time)
    {
        var before = set.FirstOrDefault(g => g.Policy == "kvm-3.1" && g.Switches.Count == 0);
        var after = set.FirstOrDefault(g => g.Policy == "kvm-3.3" && g.Switches.Count == 0);
        var alone = set.Where(g => g.Policy == "kvm-3.1" && g.Switches.Count == 1).ToList();
        var removed = set.Where(g => g.Policy == "kvm-3.3" && g.Switches.Count == 1).ToList();
        if (alone.Count + removed.Count == 0 || (before is null && after is null)) return null;

        var rows = new List<TableRow>();
        void Add(TrialGroup g, string label, string what) => rows.Add(new TableRow(label,
        [
            MeanCell(g, Elapsed, time.Text),
            before is null ? TableCell.Blank : ChangeCell(g, before, Elapsed),
            after is null ? TableCell.Blank : ChangeCell(g, after, Elapsed),
            GainShareCell(g, before, after),
            MeanCell(g, FigureCatalogue.ExitsWriteProtect.Path, Format.Count),
            MeanCell(g, FigureCatalogue.EmulatedElements.Path, Format.Count),
            MeanCell(g, FigureCatalogue.Zapped.Path, Format.Count),
            MeanCell(g, FigureCatalogue.LockWait.Path, Format.Count),
            FailedCountCell(g),
        ], ReferenceEquals(g, before) || ReferenceEquals(g, after) ? RowKind.Summary : RowKind.Value, g.Label, what));

        if (before is not null) Add(before, before.VariantName ?? "kvm-3.1", "before: no fix");
        foreach (var g in alone)
            Add(g, g.VariantName ?? $"kvm-3.1 + {g.Switches[0].Key}={g.Switches[0].Value}", (g.VariantName is null ? "" : $"{g.Switches[0].Key}={g.Switches[0].Value}: ") + SwitchHelp(g.Switches[0], "alone"));
        foreach (var g in removed)
            Add(g, g.VariantName ?? $"kvm-3.3 with {g.Switches[0].Key}={g.Switches[0].Value}", (g.VariantName is null ? "" : $"{g.Switches[0].Key}={g.Switches[0].Value}: ") + SwitchHelp(g.Switches[0], "removed"));
        if (after is not null) Add(after, after.VariantName ?? "kvm-3.3", "after: every fix");

        TableColumn[] columns =
        [
            new($"elapsed ({time.Unit})"), new("vs kvm-3.1"), new("vs kvm-3.3"),
            new("share of the 3.1→3.3 gain", Title: "(mean of kvm-3.1 − mean) / (mean of kvm-3.1 − mean of kvm-3.3)"),
            new("write-protect exits"), new("emulated elements"), new("zapped pages"), new("mmu_lock wait (cycles)"), new("failed trials"),
        ];
        string at = set[0].Point.Count == 0 ? "" : $" at {set[0].PointLabel}";
        return new ReportTable(id, "ablation", $"Ablation: {workload}{at}",
            "Each fix alone on kvm-3.1 (and each removed from kvm-3.3) against both presets: mean elapsed time, its change against each preset, " +
            "the share of the kvm-3.1→kvm-3.3 gain it recovers, and the figures it moves.",
            "group", columns, rows);
    }

    private static string SwitchHelp(KeyValuePair<string, string> sw, string how)
    {
        string help = ConfigSchema.TryGet(sw.Key, out var k) ? k.Help : sw.Key;
        return $"{help} ({how})";
    }

    private static ReportTable GroupTable(string id, WorkloadGroups w, TimeFormat time)
    {
        TableColumn[] columns =
        [
            new("trials completed"), new($"elapsed mean ({time.Unit})"), new("± 95% CI"), new("stdev"), new("min"), new("max"),
            new("vs baseline"), new("baseline", IsText: true),
        ];
        var rows = w.Groups.Select(g => new TableRow(g.Label,
        [
            TrialsCell(g),
            MeanCell(g, Elapsed, time.Text),
            StatCell(g, Elapsed, Statistic.CiHalfWidth, time.Text),
            StatCell(g, Elapsed, Statistic.Sd, time.Text),
            StatCell(g, Elapsed, Statistic.Min, time.Text),
            StatCell(g, Elapsed, Statistic.Max, time.Text),
            RatioCell(g, g.Baseline, Elapsed),
            new TableCell(g.Baseline is null ? "none" : g.IsBaseline ? "this group" : g.Baseline.Label, Mark: g.IsBaseline ? CellMark.Baseline : CellMark.None),
        ], Title: g.Id)).ToList();
        return new ReportTable(id, "groups", $"Groups: {w.Workload}",
            "One row per group of trials (same configuration, different seeds): how many completed, and the spread of elapsed time over the completed ones.",
            "group", columns, rows);
    }

    private static ReportTable FigureTable(string id, WorkloadGroups w, IReadOnlyList<string> figures)
    {
        var columns = w.Groups.Select(g => new TableColumn(g.Label, g.Id, g.IsBaseline)).ToList();
        var rows = new List<TableRow>();
        string? section = null;
        foreach (string f in figures)
        {
            string head = f[..f.IndexOf('.')];
            if (head != section)
            {
                rows.Add(new TableRow(head, w.Groups.Select(_ => TableCell.Blank).ToList(), RowKind.Heading));
                section = head;
            }
            rows.Add(new TableRow(f, w.Groups.Select(g => FigureCell(g, f)).ToList()));
        }
        return new ReportTable(id, "figures", $"Every figure: {w.Workload}",
            "Mean over completed trials ± half the 95% confidence interval (Student t), and under it the ratio of means against the group's baseline. " +
            "CSV and JSON carry n, standard deviation, interval, min and max of each.",
            "figure", columns, rows);
    }

    private static ReportTable FailureTable(Aggregate data)
    {
        TableColumn[] columns = [new("workload", IsText: true), new("group", IsText: true), new("seed"), new("outcome", IsText: true), new("error", IsText: true)];
        var rows = data.Failures.Select(f => new TableRow(f.Trial.Id,
        [
            new TableCell(f.Group.Workload),
            new TableCell(f.GroupLabels),
            new TableCell(f.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new TableCell(f.Outcome.Name(), Mark: CellMark.Failed),
            new TableCell(f.Error, Mark: CellMark.Failed),
        ], Title: string.Join(" ", f.Groups.Select(g => g.Id)))).ToList();
        string more = data.FailuresNotListed > 0 ? $" {data.FailuresNotListed} more failed trial(s) are counted but not listed." : "";
        return new ReportTable("failures-table", "failures", "Failed trials",
            "Trials that ended as host-bug (a BUG_ON the real host would hit) or error, each once (with every group it belongs to). " +
            "They are left out of every mean and counted in the tables." + more,
            "trial", columns, rows);
    }
}
