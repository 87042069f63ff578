using System.Text;
using Farm.Reports.Aggregation;
using Farm.Reports.Model;
using Farm.Simulation.Results;

namespace Farm.Reports;

/// <summary>
/// Builds a <see cref="Report"/> from trial results: groups and statistics (<see cref="Aggregate"/>),
/// then per workload the before/after tables, the ablation table, the group and figure tables
/// and the plots. Renderers only lay out what is built here.
/// </summary>
public static partial class ReportBuilder
{
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
            if (TdpFloorTable($"tdp-floor-{slug}{suffix}", w.Workload, sets[i], time, sensitivity) is { } floor) tables.Add(floor); // ReportBuilder.TdpFloor.cs
        }
        tables.Add(GroupTable($"groups-{slug}", w, time));
        tables.Add(FigureTable($"figures-{slug}", w, data.Figures));

        var plots = Plots(slug, w, time);
        foreach (var set in sets) plots.AddRange(TornadoPlots(slug, set, sensitivity));
        return new ReportSection(w.Workload, slug, w, unit, tables, plots, notes);
    }

    /// <summary>An id fragment: lower-case letters, digits and dashes.</summary>
    public static string Slug(string s)
    {
        var b = new StringBuilder();
        foreach (char c in s.ToLowerInvariant())
            b.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        return b.ToString().Trim('-') is { Length: > 0 } slug ? slug : "x";
    }
}
