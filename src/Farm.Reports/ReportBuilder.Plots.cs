using Farm.Reports.Aggregation;
using Farm.Reports.Model;

namespace Farm.Reports;

/// <summary>The plots of a workload: bars per group, and elapsed time against each swept axis.</summary>
public static partial class ReportBuilder
{
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
                PlotShape.StackedBars, "acquisitions per trial", groups, LockAcquisitionsBySite),
            BarPlot($"plot-lock-wait-{slug}", "lock-wait", "mmu_lock wait by site", "Mean cycles spent waiting for mmu_lock per trial, stacked by call site.",
                PlotShape.StackedBars, "wait (cycles) per trial", groups, LockWaitBySite),
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
}
