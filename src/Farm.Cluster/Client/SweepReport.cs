using Farm.Cluster.Protocol;
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
        var results = items.Where(i => i.ResultJson is not null).Select(i => TrialResult.Parse(i.ResultJson!)).ToList();
        return ReportBuilder.Build(results, new ReportInfo
        {
            Title = $"{info.Name}",
            SweepId = info.Sweep.Value,
            SweepSpec = info.SpecText,
            Baseline = BaselineSelector.ByLabel(info.Baseline),
            Note = items.Count(i => i.ResultJson is null) is var missing and > 0
                ? $"{missing} trial(s) of {items.Count} have no result (failed to run or cancelled) and are not shown."
                : null,
        });
    }
}
