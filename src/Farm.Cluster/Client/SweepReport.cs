using Farm.Cluster.Protocol;
using Farm.Cluster.Sweeps;
using Farm.Reports;
using Farm.Reports.Aggregation;
using Farm.Reports.Model;
using Farm.Simulation.Results;

namespace Farm.Cluster.Client;

/// <summary>The report of a stored sweep: its results, with its spec text and baseline.</summary>
public static class SweepReport
{
    /// <summary>Null for an unknown sweep.</summary>
    public static async Task<Report?> Build(FarmClient client, SweepId sweep)
    {
        if (await client.Sweep(sweep) is not SweepInfo info) return null;
        var items = await client.Results(sweep) ?? [];
        var (ordinary, sensitivity) = Split(items);
        return ReportBuilder.Build(ordinary, new ReportInfo
        {
            Sensitivity = sensitivity,
            Title = $"{info.Name}",
            SweepId = info.Sweep.Value,
            SweepSpec = info.SpecText,
            Baseline = BaselineSelector.ByLabel(info.Baseline),
            Note = items.Count(i => i.ResultJson is null) is var missing and > 0
                ? $"{missing} trial(s) of {items.Count} have no result (failed to run or cancelled) and are not shown."
                : null,
        });
    }

    /// <summary>
    /// Ordinary results, and sensitivity results (labelled <c>sensitivity=...</c>) each tied to the
    /// ordinary trial with the same labels otherwise: the one it varies the costs of.
    /// </summary>
    public static (List<TrialResult> Ordinary, List<SensitivityTrial> Sensitivity) Split(IReadOnlyList<SweepResultItem> items)
    {
        static string Key(SweepResultItem i) => string.Join(' ', i.Labels.Where(l => l.Key != SweepSensitivity.LabelKey));
        static string? Role(SweepResultItem i) => i.Labels.FirstOrDefault(l => l.Key == SweepSensitivity.LabelKey)?.Value;
        var ordinary = new List<TrialResult>();
        var centre = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var i in items.Where(i => Role(i) is null && i.ResultJson is not null))
        {
            var r = TrialResult.Parse(i.ResultJson!);
            ordinary.Add(r);
            centre.TryAdd(Key(i), r.Id);
        }
        var sensitivity = new List<SensitivityTrial>();
        foreach (var i in items.Where(i => Role(i) is not null && i.ResultJson is not null))
            if (SensitivityRole.Parse(Role(i)!) is { } role && centre.TryGetValue(Key(i), out var id))
                sensitivity.Add(new SensitivityTrial(TrialResult.Parse(i.ResultJson!), id, role));
        return (ordinary, sensitivity);
    }
}
