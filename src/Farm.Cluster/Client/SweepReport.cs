using Farm.Cluster.Protocol;
using Farm.Reports;
using Farm.Reports.Aggregation;
using Farm.Reports.Model;
using Farm.Simulation.Results;

namespace Farm.Cluster.Client;

/// <summary>The report of a stored sweep: its results in the sweep's own words (variants, axes, baseline), with its spec text.</summary>
public static class SweepReport
{
    /// <summary>
    /// Reads the sweep's results a page at a time and folds each into the report as it comes
    /// (<see cref="ReportAccumulator"/>): neither the texts nor the parsed results are ever all
    /// held, so memory is a small state per group whatever the sweep's size. Each position's labels
    /// place its trial (workload, variant, axis values, sensitivity role): groups, column titles and
    /// the baseline come from the spec. <paramref name="each"/> sees every position on the way (so
    /// a caller that also writes the results reads them once). Null for an unknown sweep.
    /// </summary>
    public static async Task<Report?> Build(FarmClient client, SweepId sweep, Action<SweepResultItem>? each = null, CancellationToken cancel = default)
    {
        if (await client.Sweep(sweep) is not SweepInfo info) return null;
        var acc = new ReportAccumulator();
        int positions = 0, missing = 0;
        await foreach (var item in client.ResultItems(sweep, cancel))
        {
            each?.Invoke(item);
            positions++;
            if (item.ResultJson is null) missing++;
            else
            {
                var place = TrialPlace.FromLabels(item.Labels.Select(l => KeyValuePair.Create(l.Key, l.Value)));
                // a sensitivity label this build cannot read: not an ordinary trial either, so left out
                if (place.Sensitivity is null && item.Labels.Any(l => l.Key == TrialPlace.SensitivityLabel)) continue;
                acc.Add(TrialResult.Parse(item.ResultJson), place);
            }
        }
        var baseline = BaselineSelector.ByLabel(info.Baseline);
        return ReportBuilder.Build(acc.Finish(baseline), new ReportInfo
        {
            Title = $"{info.Name}",
            SweepId = info.Sweep.Value,
            SweepSpec = info.SpecText,
            Baseline = baseline,
            Note = missing > 0
                ? $"{missing} position(s) of {positions} have no result (failed to run or cancelled) and are not shown."
                : null,
        });
    }
}
