using Farm.Reports.Model;
using Farm.Simulation.Results;

namespace Farm.Reports.Tests;

/// <summary>
/// Recomputes a table cell from the raw trial results, independently of the library: its own
/// grouping (workload plus configuration without the seed), mean, sample standard deviation and
/// a table of Student t quantiles.
/// </summary>
internal static class Recompute
{
    /// <summary>t(0.975, df) for df = 1..10, from standard tables.</summary>
    private static readonly double[] T975 = [double.NaN, 12.7062047362, 4.30265272975, 3.18244630528, 2.77644510520, 2.57058183564,
        2.44691185114, 2.36462425159, 2.30600413520, 2.26215716280, 2.22813885196];

    /// <summary>The trials of a group of a report built from <paramref name="results"/>, by default
    /// <see cref="Sweeps.Small"/> (the report holds no results).</summary>
    public static List<TrialResult> TrialsOf(Report report, string groupId, IReadOnlyList<TrialResult>? results = null)
    {
        var g = report.Data.Groups.Single(x => x.Id == groupId);
        string want = Key(g.Workload, g.ModelVersion, g.Config);
        return (results ?? Sweeps.Small).Where(r => Key(r) == want).ToList();
    }

    public static string Key(TrialResult r)
    {
        var t = r.Root["trial"]!;
        var config = t["config"]!.AsObject().Select(kv => KeyValuePair.Create(kv.Key, (string)kv.Value!));
        return Key((string)t["workload"]!, (string)t["model_version"]!, config);
    }

    private static string Key(string workload, string version, IEnumerable<KeyValuePair<string, string>> config) =>
        workload + "|" + version + "|" + string.Join(";", config.Where(kv => kv.Key != "seed").OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));

    public static double Expected(Report report, CellSource s, IReadOnlyList<TrialResult>? results = null)
    {
        var trials = TrialsOf(report, s.GroupId, results);
        double Mean(string groupId) => Completed(TrialsOf(report, groupId, results), s.Figure!).Average();
        var values = s.Figure is null ? [] : Completed(trials, s.Figure);
        double value = s.Statistic switch
        {
            Statistic.Value => trials.Single(t => t.Id == s.TrialId).Double(s.Figure!),
            Statistic.N => values.Count,
            Statistic.Mean => values.Average(),
            Statistic.Sd => Sd(values),
            Statistic.CiHalfWidth => T975[values.Count - 1] * Sd(values) / Math.Sqrt(values.Count),
            Statistic.Min => values.Min(),
            Statistic.Max => values.Max(),
            Statistic.Ratio => values.Average() / Mean(s.Against!),
            Statistic.Change => values.Average() / Mean(s.Against!) - 1,
            Statistic.GainShare => (Mean(s.Against!) - values.Average()) / (Mean(s.Against!) - Mean(s.Target!)),
            Statistic.Completed => trials.Count(t => t.Outcome == Outcome.Completed),
            Statistic.HostBugs => trials.Count(t => t.Outcome == Outcome.HostBug),
            Statistic.Errors => trials.Count(t => t.Outcome == Outcome.Error),
            Statistic.Failed => trials.Count(t => t.Outcome != Outcome.Completed),
            _ => throw new ArgumentOutOfRangeException(nameof(s), s.Statistic, null),
        };
        return value * s.Scale;
    }

    private static List<double> Completed(IEnumerable<TrialResult> trials, string figure) =>
        trials.Where(t => t.Outcome == Outcome.Completed).Select(t => t.Double(figure)).ToList();

    private static double Sd(List<double> v)
    {
        double m = v.Average();
        return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Count - 1));
    }

    public static void AssertClose(double expected, double actual, string what)
    {
        double tolerance = 1e-9 * Math.Max(1, Math.Abs(expected));
        if (Math.Abs(expected - actual) > tolerance)
            Xunit.Assert.Fail($"{what}: expected {expected:R}, the report has {actual:R}");
    }
}
