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
        // A page at a time, each result parsed as it comes: the JSON texts are never all held at once.
        var split = new Splitter();
        int positions = 0, missing = 0;
        await foreach (var item in client.ResultItems(sweep))
        {
            positions++;
            if (item.ResultJson is null) missing++;
            else split.Add(item);
        }
        var (ordinary, sensitivity) = split.Finish();
        return ReportBuilder.Build(ordinary, new ReportInfo
        {
            Sensitivity = sensitivity,
            Title = $"{info.Name}",
            SweepId = info.Sweep.Value,
            SweepSpec = info.SpecText,
            Baseline = BaselineSelector.ByLabel(info.Baseline),
            Note = missing > 0
                ? $"{missing} trial(s) of {positions} have no result (failed to run or cancelled) and are not shown."
                : null,
        });
    }

    /// <summary>
    /// Ordinary results, and sensitivity results (labelled <c>sensitivity=...</c>) each tied to the
    /// ordinary trial with the same labels otherwise: the one it varies the costs of. Results may
    /// come in any order, so sensitivity results are tied at the end.
    /// </summary>
    private sealed class Splitter
    {
        private readonly List<TrialResult> _ordinary = [];
        private readonly Dictionary<string, string> _centre = new(StringComparer.Ordinal);
        private readonly List<(string Key, SensitivityRole Role, TrialResult Result)> _pending = [];

        private static string Key(SweepResultItem i) => string.Join(' ', i.Labels.Where(l => l.Key != SweepSensitivity.LabelKey));

        public void Add(SweepResultItem item)
        {
            var result = TrialResult.Parse(item.ResultJson!);
            string? role = item.Labels.FirstOrDefault(l => l.Key == SweepSensitivity.LabelKey)?.Value;
            if (role is null)
            {
                _ordinary.Add(result);
                _centre.TryAdd(Key(item), result.Id);
            }
            else if (SensitivityRole.Parse(role) is { } parsed)
                _pending.Add((Key(item), parsed, result));
        }

        public (List<TrialResult> Ordinary, List<SensitivityTrial> Sensitivity) Finish()
        {
            var sensitivity = new List<SensitivityTrial>();
            foreach (var (key, role, result) in _pending)
                if (_centre.TryGetValue(key, out var id)) sensitivity.Add(new SensitivityTrial(result, id, role));
            return (_ordinary, sensitivity);
        }
    }
}
