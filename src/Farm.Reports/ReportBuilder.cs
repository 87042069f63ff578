using System.Text;
using Farm.Reports.Aggregation;
using Farm.Reports.Model;
using Farm.Simulation.Config;
using Farm.Simulation.Results;

namespace Farm.Reports;

/// <summary>
/// Builds a <see cref="Report"/> from trial results: groups and statistics (<see cref="Aggregate"/>),
/// then per workload the before/after tables, the ablation table, the group and figure tables
/// and the plots. Renderers only lay out what is built here.
/// </summary>
public static partial class ReportBuilder
{
    public const string Elapsed = "time.elapsed_seconds";

    /// <summary>The figures under a cover letter's timing that explain the difference (means over completed runs).</summary>
    public static readonly IReadOnlyList<(string Label, string Figure)> Explaining =
    [
        ("exits", "exits.total"),
        ("write-protect exits", "exits.write_protect"),
        ("emulated instructions", "emulation.instructions"),
        ("emulated elements", "emulation.elements"),
        ("retried", "emulation.retried"),
        ("kvm_mmu_pte_write calls", "pte_write.calls"),
        ("zapped: misaligned", "zap.misaligned"),
        ("zapped: flooded", "zap.flooded"),
        ("zapped: unprotect", "zap.unprotect"),
        ("zapped: reclaim", "zap.reclaim"),
        ("zapped: left empty by sync", "zap.sync"),
        ("forced exits (remote flush/reload IPIs)", "exits.ipi"),
        ("mmu_lock acquisitions", "mmu_lock.acquisitions"),
        ("mmu_lock wait (cycles)", "mmu_lock.wait_cycles"),
        ("mmu_lock wait p99 (cycles)", "mmu_lock.wait_p99"),
        ("desc cache exhausted", "desc_cache.exhausted"),
    ];

    internal static readonly (string Name, string Figure)[] ExitReasons =
        [("page fault", "exits.page_fault"), ("write protect", "exits.write_protect"), ("cr3", "exits.cr3"), ("invlpg", "exits.invlpg"), ("ipi (forced)", "exits.ipi")];
    private static readonly (string Name, string Figure)[] EmulationKinds =
        [("emulated instructions", "emulation.instructions"), ("retried (unprotected, re-executed)", "emulation.retried")];
    private static readonly (string Name, string Figure)[] WriteWidths =
        [("1 byte", "pte_write.bytes_1"), ("4 bytes", "pte_write.bytes_4"), ("8 bytes", "pte_write.bytes_8"), ("other", "pte_write.bytes_other")];
    internal static readonly (string Name, string Figure)[] ZapReasons =
        [("misaligned", "zap.misaligned"), ("flooded", "zap.flooded"), ("unprotect", "zap.unprotect"), ("reclaim", "zap.reclaim"), ("sync (left empty)", "zap.sync"), ("other", "zap.other")];
    private static readonly string[] LockSites = ["page_fault", "pte_write", "unprotect", "cr3", "invlpg", "reclaim"];
    private static readonly (string Name, string Figure)[] WaitPercentiles =
        [("p50", "mmu_lock.wait_p50"), ("p99", "mmu_lock.wait_p99"), ("max", "mmu_lock.wait_max")];

    /// <summary>
    /// Aggregates <paramref name="results"/> (results with no sweep: grouped by configuration; a
    /// result given twice counts once) and builds every table and plot. A sweep's report streams its
    /// results into a <see cref="ReportAccumulator"/> with their places instead (<c>SweepReport</c>).
    /// </summary>
    public static Report Build(IReadOnlyList<TrialResult> results, ReportInfo? info = null)
    {
        info ??= new ReportInfo();
        var acc = new ReportAccumulator();
        var byId = new Dictionary<string, TrialResult>(StringComparer.Ordinal);
        foreach (var r in results)
            if (byId.TryAdd(r.Id, r)) acc.Add(r);
        foreach (var t in info.Sensitivity)
            acc.AddSensitivity(t.Result, t.Role, byId.GetValueOrDefault(t.CenterTrialId));
        return Build(acc.Finish(info.Baseline), info);
    }

    /// <summary>Builds every table and plot of aggregated trials (<see cref="ReportAccumulator.Finish"/>, with <paramref name="info"/>'s baseline).</summary>
    public static Report Build(Aggregate data, ReportInfo? info = null)
    {
        info ??= new ReportInfo();
        var sensitivity = new SensitivityAnalysis(data);
        var slugs = new HashSet<string>(StringComparer.Ordinal);
        var sections = new List<ReportSection>();
        foreach (var w in data.Workloads)
        {
            string slug = Slug(w.Workload);
            for (int i = 2; !slugs.Add(slug); i++) slug = $"{Slug(w.Workload)}-{i}";
            sections.Add(Section(data, w, slug, info.Baseline, sensitivity));
        }
        var (summary, shares) = SummaryTable(data, sensitivity);
        return new Report(info, data, sections, FailureTable(data)) { SummaryTable = summary, GainShares = shares, Sensitivity = sensitivity };
    }

    private sealed record TimeFormat(string Unit, double Scale)
    {
        public string Text(double seconds) => Format.Time(seconds, Unit, Scale);
    }

    private static ReportSection Section(Aggregate data, WorkloadGroups w, string slug, BaselineSelector baseline, SensitivityAnalysis sensitivity)
    {
        double maxElapsed = w.Groups.Select(g => g.Mean(Elapsed) ?? 0).DefaultIfEmpty(0).Max();
        var (unit, scale) = Format.TimeUnit(maxElapsed);
        var time = new TimeFormat(unit, scale);

        var notes = new List<string>();
        if (w.Groups.All(g => g.Baseline is null))
            notes.Add($"No group of this workload is the baseline ({baseline.Description}): changes and ratios are not shown.");
        else if (w.Groups.Any(g => g.Baseline is null))
            notes.Add($"Some groups have no baseline ({baseline.Description}) at their axis values: their ratios are not shown.");

        var tables = new List<ReportTable>();
        var sets = w.ComparisonSets;
        for (int i = 0; i < sets.Count; i++)
        {
            string suffix = sets.Count == 1 ? "" : $"-{i + 1}";
            tables.Add(BeforeAfter($"before-after-{slug}{suffix}", w.Workload, sets[i], time, data.Figures));
            if (Ablation($"ablation-{slug}{suffix}", w.Workload, sets[i], time) is { } ablation) tables.Add(ablation);
            if (SensitivityTable($"sensitivity-{slug}{suffix}", w.Workload, sets[i], sensitivity) is { } table) tables.Add(table);
        }
        tables.Add(GroupTable($"groups-{slug}", w, time));
        tables.Add(FigureTable($"figures-{slug}", w, data.Figures));

        var plots = Plots(slug, w, time);
        foreach (var set in sets) plots.AddRange(TornadoPlots(slug, set, sensitivity));
        return new ReportSection(w.Workload, slug, w, unit, tables, plots, notes);
    }

    // ---- tables ----

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
            MeanCell(g, "exits.write_protect", Format.Count),
            MeanCell(g, "emulation.elements", Format.Count),
            MeanCell(g, "zap.pages", Format.Count),
            MeanCell(g, "mmu_lock.wait_cycles", Format.Count),
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
            new TableCell(f.Outcome, Mark: CellMark.Failed),
            new TableCell(f.Error, Mark: CellMark.Failed),
        ], Title: string.Join(" ", f.Groups.Select(g => g.Id)))).ToList();
        string more = data.FailuresNotListed > 0 ? $" {data.FailuresNotListed} more failed trial(s) are counted but not listed." : "";
        return new ReportTable("failures-table", "failures", "Failed trials",
            "Trials that ended as host-bug (a BUG_ON the real host would hit) or error, each once (with every group it belongs to). " +
            "They are left out of every mean and counted in the tables." + more,
            "trial", columns, rows);
    }

    // ---- cells ----

    private static TableCell RunCell(TrialGroup g, long seed, TimeFormat time)
    {
        var t = g.Trials.FirstOrDefault(r => r.Seed == seed);
        if (t is null) return TableCell.Blank;
        if (t.Elapsed is not { } v) return new TableCell("✗ " + t.Outcome, Mark: CellMark.Failed, Title: t.Error);
        return new TableCell(time.Text(v), v, new CellSource(g.Id, Elapsed, Statistic.Value, t.Id), Title: t.Id);
    }

    private static TableCell MeanCell(TrialGroup g, string figure, Func<double, string> format) =>
        g.CompletedCount == 0
            ? new TableCell("✗ no completed trial", Mark: CellMark.Failed)
            : StatCell(g, figure, Statistic.Mean, format);

    private static TableCell StatCell(TrialGroup g, string figure, Statistic stat, Func<double, string> format)
    {
        var s = g.Stat(figure);
        double? v = stat switch
        {
            Statistic.N => s.N,
            Statistic.Mean => s.Mean,
            Statistic.Sd => s.Sd,
            Statistic.CiHalfWidth => s.CiHalfWidth,
            Statistic.Min => s.Min,
            Statistic.Max => s.Max,
            _ => throw new ArgumentOutOfRangeException(nameof(stat), stat, "not a per-group statistic"),
        };
        return v is { } value
            ? new TableCell(format(value), value, new CellSource(g.Id, figure, stat), g.IsBaseline && stat == Statistic.Mean ? CellMark.Baseline : CellMark.None)
            : new TableCell("–", Title: s.N < 2 ? "needs two completed trials" : null);
    }

    private static TableCell ChangeCell(TrialGroup g, TrialGroup? against, string figure)
    {
        if (against is null) return new TableCell("–", Title: "no baseline");
        if (ReferenceEquals(g, against)) return new TableCell("baseline", Mark: CellMark.Baseline);
        return g.RatioTo(against, figure) is { } r
            ? new TableCell(Format.Change(r), r - 1, new CellSource(g.Id, figure, Statistic.Change, Against: against.Id), Title: $"against {against.Label}")
            : new TableCell("–");
    }

    private static TableCell RatioCell(TrialGroup g, TrialGroup? against, string figure)
    {
        if (against is null || g.RatioTo(against, figure) is not { } r) return new TableCell("–");
        return new TableCell(Format.Ratio(r), r, new CellSource(g.Id, figure, Statistic.Ratio, Against: against.Id),
            ReferenceEquals(g, against) ? CellMark.Baseline : CellMark.None);
    }

    private static TableCell GainShareCell(TrialGroup g, TrialGroup? before, TrialGroup? after)
    {
        double? m = g.Mean(Elapsed), b = before?.Mean(Elapsed), a = after?.Mean(Elapsed);
        if (m is null || b is null || a is null || b == a) return new TableCell("–");
        double share = (b.Value - m.Value) / (b.Value - a.Value);
        return new TableCell(Format.Percent(share), share, new CellSource(g.Id, Elapsed, Statistic.GainShare, Against: before!.Id, Target: after!.Id));
    }

    private static TableCell FigureCell(TrialGroup g, string figure)
    {
        var s = g.Stat(figure);
        if (s.Mean is not { } mean) return new TableCell("✗", Mark: CellMark.Failed, Title: "no completed trial");
        string text = Format.Count(mean) + (s.CiHalfWidth is { } h && h != 0 ? " ± " + Format.Count(h) : "");
        TableCell? detail = g.Baseline is null || g.IsBaseline ? null : RatioCell(g, g.Baseline, figure) is { Value: not null } r ? r : null;
        return new TableCell(text, mean, new CellSource(g.Id, figure, Statistic.Mean),
            g.IsBaseline ? CellMark.Baseline : CellMark.None, $"n={s.N}" + (s.Sd is { } sd ? $", sd={Format.Count(sd)}, min={Format.Count(s.Min!.Value)}, max={Format.Count(s.Max!.Value)}" : ""), detail);
    }

    private static TableCell TrialsCell(TrialGroup g)
    {
        var text = new StringBuilder($"{g.CompletedCount}/{g.TrialCount}");
        if (g.HostBugs > 0) text.Append($" ✗ {g.HostBugs} host-bug");
        if (g.Errors > 0) text.Append($" ✗ {g.Errors} error");
        return new TableCell(text.ToString(), g.CompletedCount, new CellSource(g.Id, null, Statistic.Completed), g.FailedCount > 0 ? CellMark.Failed : CellMark.None);
    }

    private static TableCell FailedCountCell(TrialGroup g)
    {
        if (g.FailedCount == 0) return new TableCell("0", 0, new CellSource(g.Id, null, Statistic.Failed));
        string text = string.Join(", ", new[] { (g.HostBugs, "host-bug"), (g.Errors, "error") }.Where(x => x.Item1 > 0).Select(x => $"✗ {x.Item1} {x.Item2}"));
        return new TableCell(text, g.FailedCount, new CellSource(g.Id, null, Statistic.Failed), CellMark.Failed, string.Join("; ", g.ErrorMessages));
    }

    // ---- plots ----

    private static List<ReportPlot> Plots(string slug, WorkloadGroups w, TimeFormat time)
    {
        var groups = w.Groups;
        var plots = new List<ReportPlot>
        {
            BarPlot($"plot-elapsed-{slug}", "elapsed", "Elapsed time", $"Mean elapsed time per group with 95% confidence intervals ({time.Unit}).",
                PlotShape.Bars, $"elapsed ({time.Unit})", groups, [("elapsed", Elapsed)], time.Scale, errors: true),
            BarPlot($"plot-exits-{slug}", "exits", "Exits by reason", "Mean VM exits per trial, stacked by reason.",
                PlotShape.StackedBars, "exits per trial", groups, ExitReasons),
            BarPlot($"plot-emulated-writes-{slug}", "emulated-writes", "Emulated page-table writes by width",
                "Mean kvm_mmu_pte_write calls per trial (one per emulated element: a rep iteration or a single write; kvm-3.1's invlpg adds its own), " +
                "stacked by write width. 1-byte writes are lock andb, which kvm-3.1 takes for misaligned (fix 3).",
                PlotShape.StackedBars, "writes per trial", groups, WriteWidths),
            BarPlot($"plot-emulation-{slug}", "emulation", "Emulated and retried instructions",
                "Mean instructions emulated per trial, against faulting instructions that kvm-3.3 unprotects and lets the guest re-execute instead (fix 2).",
                PlotShape.GroupedBars, "instructions per trial", groups, EmulationKinds),
            BarPlot($"plot-zaps-{slug}", "zaps", "Shadow pages zapped by reason", "Mean shadow pages zapped per trial, stacked by reason.",
                PlotShape.StackedBars, "pages zapped per trial", groups, ZapReasons),
            BarPlot($"plot-lock-acquisitions-{slug}", "lock-acquisitions", "mmu_lock acquisitions by site", "Mean mmu_lock acquisitions per trial, stacked by call site.",
                PlotShape.StackedBars, "acquisitions per trial", groups, LockSites.Select(s => (s, $"mmu_lock.by_site.{s}.acquisitions")).ToArray()),
            BarPlot($"plot-lock-wait-{slug}", "lock-wait", "mmu_lock wait by site", "Mean cycles spent waiting for mmu_lock per trial, stacked by call site.",
                PlotShape.StackedBars, "wait (cycles) per trial", groups, LockSites.Select(s => (s, $"mmu_lock.by_site.{s}.wait_cycles")).ToArray()),
            BarPlot($"plot-lock-wait-distribution-{slug}", "lock-wait-distribution", "mmu_lock wait distribution",
                "Wait per acquisition: median, 99th percentile and maximum (cycles), means over the trials; logarithmic scale (a bar at 1 is a wait of 0 or 1 cycle).",
                PlotShape.GroupedBars, "wait per acquisition (cycles, log scale)", groups, WaitPercentiles) with { LogScale = true },
        };
        foreach (string axis in w.Axes)
            plots.Add(AxisPlot($"plot-axis-{slug}-{Slug(axis)}", axis, groups, time));
        return plots;
    }

    private static ReportPlot BarPlot(string id, string kind, string title, string caption, PlotShape shape, string valueAxis,
        IReadOnlyList<TrialGroup> groups, (string Name, string Figure)[] series, double scale = 1, bool errors = false)
    {
        var s = series.Select(x => new PlotSeries(x.Name, x.Figure, groups.Select(g => new PlotPoint(
            g.Mean(x.Figure) * scale, errors ? g.Stat(x.Figure).CiHalfWidth * scale : null, g.Id)).ToList())).ToList();
        if (s.All(x => x.Points.All(p => p.Value is null or 0)) && groups.Any(g => g.CompletedCount > 0))
            caption += " Every value is zero in these trials.";
        return new ReportPlot(id, kind, title, caption, shape, valueAxis, "group", groups.Select(CategoryLabel).ToList(), s, scale);
    }

    private static string CategoryLabel(TrialGroup g) =>
        g.CompletedCount == 0 ? $"{g.Label} [✗ no completed trial]"
        : g.FailedCount > 0 ? $"{g.Label} [✗ {g.FailedCount} failed]"
        : g.Label;

    /// <summary>Elapsed time against one swept axis: one line per variant (and value of the other axes).</summary>
    private static ReportPlot AxisPlot(string id, string axis, IReadOnlyList<TrialGroup> groups, TimeFormat time)
    {
        string Value(TrialGroup g) => g.Point.First(p => p.Key == axis).Value;
        string SeriesName(TrialGroup g) => string.Join(", ", g.Point.Where(p => p.Key != axis).Select(p => $"{p.Key}={p.Value}").Prepend(g.Variant));
        var values = groups.Select(Value).Distinct().Order(Aggregate.PointComparer.Instance).ToList();
        var series = groups.GroupBy(SeriesName).Select(s => new PlotSeries(s.Key, Elapsed, values.Select(v =>
        {
            var g = s.FirstOrDefault(x => Value(x) == v);
            return new PlotPoint(g?.Mean(Elapsed) * time.Scale, g?.Stat(Elapsed).CiHalfWidth * time.Scale, g?.Id);
        }).ToList())).ToList();
        var numeric = values.Select(v => double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double d) ? d : (double?)null).ToList();
        return new ReportPlot(id, "axis", $"Elapsed time against {axis}",
            $"Mean elapsed time ({time.Unit}) with 95% confidence intervals at each value of the swept axis {axis}, one line per group variant.",
            PlotShape.Lines, $"elapsed ({time.Unit})", axis, values, series, time.Scale,
            numeric.All(d => d is not null) ? numeric.Select(d => d!.Value).ToList() : null);
    }

    // ---- helpers ----

    /// <summary>An id fragment: lower-case letters, digits and dashes.</summary>
    public static string Slug(string s)
    {
        var b = new StringBuilder();
        foreach (char c in s.ToLowerInvariant())
            b.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        return b.ToString().Trim('-') is { Length: > 0 } slug ? slug : "x";
    }
}
