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
        // A page at a time, each result parsed as it comes: the JSON texts are never all held at once.
        var results = new List<TrialResult>();
        int positions = 0, missing = 0;
        await foreach (var item in client.ResultItems(sweep))
        {
            positions++;
            if (item.ResultJson is null) missing++;
            else results.Add(TrialResult.Parse(item.ResultJson));
        }
        return ReportBuilder.Build(results, new ReportInfo
        {
            Title = $"{info.Name}",
            SweepId = info.Sweep.Value,
            SweepSpec = info.SpecText,
            Baseline = BaselineSelector.ByLabel(info.Baseline),
            Note = missing > 0
                ? $"{missing} trial(s) of {positions} have no result (failed to run or cancelled) and are not shown."
                : null,
        });
    }
}
