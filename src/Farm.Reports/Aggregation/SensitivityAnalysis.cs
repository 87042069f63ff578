using System.Globalization;
using Farm.Reports.Model;

namespace Farm.Reports.Aggregation;

/// <summary>
/// The central share of Monte Carlo draws: with n draws sorted, drop ⌊n·(1 − coverage)/2⌋ at each
/// end; the band is the lowest and highest of the rest, and <see cref="Share"/> is how many draws
/// it holds (so "90% of draws" is a count, not an interpolated quantile).
/// </summary>
public sealed record Band(int Draws, double Low, double High, double Share)
{
    public const double Coverage = 0.9;

    public static Band? Of(IReadOnlyList<double> values, double coverage = Coverage)
    {
        if (values.Count == 0) return null;
        var v = values.Order().ToArray();
        int drop = (int)Math.Floor(v.Length * (1 - coverage) / 2 + 1e-9);
        return new Band(v.Length, v[drop], v[^(drop + 1)], (v.Length - 2.0 * drop) / v.Length);
    }
}

/// <summary>One key's one-at-a-time result: the figure with the key at the low and at the high end of its range.</summary>
public sealed record KeySwing(string Key, string? LowValue, string? HighValue, double? AtLow, double? AtHigh)
{
    /// <summary>How far the figure moves between the two ends (0 when either is missing).</summary>
    public double Swing => AtLow is { } l && AtHigh is { } h ? Math.Abs(h - l) : 0;
}

/// <summary>
/// A figure of one comparison (a group's change against its baseline, or a fix's share of the
/// 3.1→3.3 gain) under the sensitivity: at the sweep's costs, one key at a time, and over the draws.
/// Every value is computed from the means over the sensitivity's seeds of the trials of each
/// group under the same costs (the same draw), so the groups compared share their costs and seeds.
/// </summary>
public sealed record SensitivityFigure(
    double? AtDefaults,
    IReadOnlyList<KeySwing> Keys,
    IReadOnlyList<double> DrawValues,
    int DrawsRun,
    Band? Band,
    IReadOnlyList<long> Seeds)
{
    /// <summary>The keys by swing, largest first (ties by key order in the sweep).</summary>
    public IReadOnlyList<KeySwing> ByImpact => Keys.Where(k => k.AtLow is not null && k.AtHigh is not null)
        .Select((k, i) => (k, i)).OrderByDescending(x => x.k.Swing).ThenBy(x => x.i).Select(x => x.k).ToList();

    /// <summary>The (at most) two keys that move the figure most; a key that does not move it is never named.</summary>
    public IReadOnlyList<KeySwing> TopKeys => ByImpact.Where(k => k.Swing > 1e-12).Take(2).ToList();
}

/// <summary>A group's change of mean elapsed time against its baseline, under the sensitivity.</summary>
public sealed record SensitivityChange(TrialGroup Group, TrialGroup Against, SensitivityFigure Change);

/// <summary>A fix's share of the kvm-3.1 → kvm-3.3 gain, under the sensitivity (null when the sweep ran none on these groups).</summary>
public sealed record GainShare(string Workload, string Point, string Switch, TrialGroup Fix, TrialGroup Before, TrialGroup After, double? Share, SensitivityFigure? Sensitivity);

/// <summary>
/// Attaches sensitivity trials to the groups of their centre trials and computes, per comparison,
/// the change at the sweep's costs, with each key at its ends, and over the draws. docs/reports.md.
/// </summary>
public sealed class SensitivityAnalysis
{
    /// <summary>The figure compared: elapsed time, which every trial row keeps.</summary>
    public const string Figure = "time.elapsed_seconds";

    // group -> role ("low:k", "high:k", "draw:n") -> seed -> run
    private readonly Dictionary<TrialGroup, Dictionary<string, Dictionary<long, SensitivityRun>>> _runs = [];
    private readonly List<string> _keys = [];
    private readonly int _draws;

    public SensitivityAnalysis(Aggregate data)
    {
        Unattached = data.SensitivityUnattached;
        foreach (var t in data.SensitivityRuns)
        {
            if (t.Role.Key is { } k && !_keys.Contains(k)) _keys.Add(k);
            if (t.Role.Kind == SensitivityKind.Draw) _draws = Math.Max(_draws, t.Role.Draw);
            if (!_runs.TryGetValue(t.Group, out var roles)) _runs[t.Group] = roles = [];
            string role = t.Role.ToString();
            if (!roles.TryGetValue(role, out var bySeed)) roles[role] = bySeed = [];
            bySeed[t.Trial.Seed] = t;
            TrialCount++;
            if (!t.Trial.Completed) Failed++;
        }
    }

    /// <summary>The keys varied one at a time, in the sweep's order.</summary>
    public IReadOnlyList<string> Keys => _keys;
    public int Draws => _draws;
    public int TrialCount { get; }
    public int Failed { get; }

    /// <summary>Sensitivity trials whose centre trial is not among the results (it failed to run or was cancelled): left out.</summary>
    public int Unattached { get; }

    public bool HasRuns(TrialGroup g) => _runs.ContainsKey(g);
    public bool Any => _runs.Count > 0;

    /// <summary>The change of <paramref name="g"/> against <paramref name="against"/>; null unless both ran the sensitivity.</summary>
    public SensitivityChange? Change(TrialGroup g, TrialGroup against)
    {
        if (!_runs.ContainsKey(g) || !_runs.ContainsKey(against) || ReferenceEquals(g, against)) return null;
        return new SensitivityChange(g, against, Compute([g, against], m => m[1] == 0 ? null : m[0] / m[1] - 1));
    }

    /// <summary>The share of the before → after gain that <paramref name="fix"/> recovers; null unless all three ran the sensitivity.</summary>
    public SensitivityFigure? Share(TrialGroup fix, TrialGroup before, TrialGroup after)
    {
        if (!_runs.ContainsKey(fix) || !_runs.ContainsKey(before) || !_runs.ContainsKey(after)) return null;
        return Compute([fix, before, after], m => m[1] == m[2] ? null : (m[1] - m[0]) / (m[1] - m[2]));
    }

    private SensitivityFigure Compute(TrialGroup[] groups, Func<double[], double?> figure)
    {
        var seeds = _runs[groups[0]].Values.SelectMany(s => s.Keys).Distinct().Order().ToList();
        double? Role(string? role)
        {
            var means = new double[groups.Length];
            for (int i = 0; i < groups.Length; i++)
            {
                var bySeed = role is null
                    ? groups[i].Trials.GroupBy(t => t.Seed).ToDictionary(x => x.Key, x => x.First())
                    : _runs[groups[i]].GetValueOrDefault(role)?.ToDictionary(x => x.Key, x => x.Value.Trial);
                if (bySeed is null) return null;
                var values = new List<double>();
                foreach (long s in seeds)
                {
                    if (!bySeed.TryGetValue(s, out var r) || r.Elapsed is not { } elapsed) return null; // a missing or failed run: no value for this role
                    values.Add(elapsed);
                }
                means[i] = values.Average();
            }
            return figure(means);
        }
        string? Value(string role) => groups.Select(g => _runs[g].GetValueOrDefault(role)?.Values.FirstOrDefault()?.KeyValue).FirstOrDefault(v => v is not null);

        var keys = _keys.Where(k => groups.All(g => _runs[g].ContainsKey($"low:{k}"))).Select(k =>
            new KeySwing(k, Value($"low:{k}"), Value($"high:{k}"), Role($"low:{k}"), Role($"high:{k}"))).ToList();
        var draws = new List<double>();
        int run = 0;
        for (int d = 1; d <= _draws; d++)
        {
            if (!groups.All(g => _runs[g].ContainsKey($"draw:{d}"))) continue;
            run++;
            if (Role($"draw:{d}") is { } v) draws.Add(v);
        }
        return new SensitivityFigure(Role(null), keys, draws, run, Band.Of(draws), seeds);
    }

    /// <summary>"cost.exit (-1.9% at 1350 to -4.1% at 2000)".</summary>
    public static string Describe(KeySwing k, Func<double, string> format) =>
        string.Create(CultureInfo.InvariantCulture, $"{k.Key} ({format(k.AtLow!.Value)} at {k.LowValue} to {format(k.AtHigh!.Value)} at {k.HighValue})");
}
