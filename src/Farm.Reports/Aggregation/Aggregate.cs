using System.Globalization;
using Farm.Reports.Model;
using Farm.Simulation.Config;
using Farm.Simulation.Results;

namespace Farm.Reports.Aggregation;

/// <summary>The groups of one workload, its axes and its comparison sets.</summary>
public sealed record WorkloadGroups(string Workload, IReadOnlyList<TrialGroup> Groups, IReadOnlyList<string> Axes)
{
    /// <summary>Groups at the same point of the axes (the columns of one before/after table), in report order.</summary>
    public IReadOnlyList<IReadOnlyList<TrialGroup>> ComparisonSets =>
        Groups.GroupBy(g => g.PointLabel).Select(s => (IReadOnlyList<TrialGroup>)s.ToList()).ToList();

    /// <summary>The workload's distinct trials (a trial in two groups counts once).</summary>
    public int Trials { get; init; }
}

/// <summary>
/// Trial results grouped (by their sweep's places, or by configuration with seed and engine aside),
/// with statistics and baselines. Built by <see cref="ReportAccumulator"/>: it holds no result.
/// </summary>
public sealed class Aggregate
{
    /// <summary>Keys that never make two trials different groups: the seed (and the engine, which is not in a result's config).</summary>
    public static readonly IReadOnlySet<string> IgnoredKeys = new HashSet<string>(StringComparer.Ordinal) { "seed", "engine" };

    /// <summary>The mmu.* keys that a policy preset sets: a group that sets them otherwise has them as switches, not axes.</summary>
    public static readonly IReadOnlySet<string> PresetKeys =
        ConfigSchema.Preset("kvm-3.1").Keys.Concat(ConfigSchema.Preset("kvm-3.3").Keys).ToHashSet(StringComparer.Ordinal);

    internal Aggregate(IReadOnlyList<string> figures, IReadOnlyList<WorkloadGroups> workloads, TrialCounts trials, int positions,
        IReadOnlyList<FailedTrial> failures, int failuresNotListed, IReadOnlyList<SensitivityRun> sensitivity, int sensitivityUnattached)
    {
        Figures = figures;
        Workloads = workloads;
        Groups = workloads.SelectMany(w => w.Groups).ToList();
        Trials = trials;
        Positions = positions;
        Failures = failures;
        FailuresNotListed = failuresNotListed;
        SensitivityRuns = sensitivity;
        SensitivityUnattached = sensitivityUnattached;
    }

    /// <summary>Every numeric figure path of the results, in RESULTS.md order.</summary>
    public IReadOnlyList<string> Figures { get; }
    public IReadOnlyList<WorkloadGroups> Workloads { get; }

    /// <summary>All groups in report order: by workload, then axis point, then variant.</summary>
    public IReadOnlyList<TrialGroup> Groups { get; }

    /// <summary>Distinct trials by outcome (a trial held by two positions counts once).</summary>
    public TrialCounts Trials { get; }

    /// <summary>Positions given: trials counted once per place they were given under.</summary>
    public int Positions { get; }

    /// <summary>Each failed trial once, with every group it belongs to, in report order (at most <see cref="ReportLimits.FailuresListed"/>).</summary>
    public IReadOnlyList<FailedTrial> Failures { get; }

    /// <summary>Failed trials counted but not listed (over <see cref="ReportLimits.FailuresListed"/>).</summary>
    public int FailuresNotListed { get; }

    /// <summary>The sensitivity trials, each with its group.</summary>
    public IReadOnlyList<SensitivityRun> SensitivityRuns { get; }

    /// <summary>Sensitivity trials whose group is not among the results (its trials failed to run or were cancelled).</summary>
    public int SensitivityUnattached { get; }

    /// <summary>Groups the results by configuration (results with no sweep): <see cref="ReportAccumulator"/> without places.</summary>
    public static Aggregate Build(IReadOnlyList<TrialResult> results, BaselineSelector? baseline = null)
    {
        var acc = new ReportAccumulator();
        foreach (var r in results) acc.Add(r);
        return acc.Finish(baseline);
    }

    /// <summary>By point (numbers numerically), then the sweep's variant order, then policy, number of switches and switches in schema order.</summary>
    internal static List<TrialGroup> Order(IEnumerable<TrialGroup> groups) => groups
        .OrderBy(g => g.Point.Select(p => p.Value).ToList(), PointComparer.Instance)
        .ThenBy(g => g.VariantOrder)
        .ThenBy(g => g.Policy, StringComparer.Ordinal)
        .ThenBy(g => g.Switches.Count)
        .ThenBy(SwitchOrder, StringComparer.Ordinal)
        .ToList();

    /// <summary>Switches in the schema's order (fix 1, fix 2, ...), then by value.</summary>
    private static string SwitchOrder(TrialGroup g) =>
        string.Join(";", g.Switches.Select(s => $"{SchemaIndex(s.Key):D4}={s.Value}"));

    private static int SchemaIndex(string key)
    {
        for (int i = 0; i < ConfigSchema.Keys.Count; i++)
            if (ConfigSchema.Keys[i].Name == key) return i;
        return ConfigSchema.Keys.Count;
    }

    internal static IReadOnlyDictionary<string, string> PresetOf(string policy)
    {
        try
        {
            return ConfigSchema.Preset(policy);
        }
        catch (ConfigException)
        {
            return new Dictionary<string, string>(); // a policy this model version does not know: no switches, every difference is an axis
        }
    }

    /// <summary>Results with no sweep: keys whose values differ between the groups of a workload, other than the policy and its preset switches.</summary>
    internal static List<string> Axes(IReadOnlyList<TrialGroup> groups)
    {
        var keys = new List<string>();
        foreach (var g in groups)
            foreach (var (k, _) in g.Config)
                if (!keys.Contains(k)) keys.Add(k);
        var axes = keys.Where(k => k != "policy" && !PresetKeys.Contains(k) && groups.Select(g => g.ConfigValue(k) ?? "").Distinct().Count() > 1).ToList();
        if (groups.Select(g => g.ModelVersion).Distinct().Count() > 1) axes.Add("model_version");
        return axes;
    }

    internal static string AxisValue(TrialGroup g, string axis) => axis == "model_version" ? g.ModelVersion : g.ConfigValue(axis) ?? "";

    /// <summary>
    /// A matching group is its own baseline. Any other group takes a matching group that has its
    /// values on every axis where the matching groups differ (an axis that all of them share, like
    /// a baseline chosen by axis value, is not compared), preferring one of its own variant;
    /// without one it has no baseline.
    /// </summary>
    internal static void AssignBaselines(IReadOnlyList<TrialGroup> groups, BaselineSelector selector, IReadOnlySet<string> variantNames)
    {
        var candidates = groups.Where(g => selector.Matches(g, variantNames)).ToList();
        var axes = groups.SelectMany(g => g.Point.Select(p => p.Key)).Distinct().ToList();
        var varying = axes.Where(a => candidates.Select(c => PointValue(c, a)).Distinct().Count() > 1).ToList();
        foreach (var g in groups)
        {
            g.Baseline = candidates.Contains(g) ? g
                : candidates.Where(c => varying.All(a => PointValue(c, a) == PointValue(g, a)))
                    .OrderByDescending(c => c.Variant == g.Variant) // stable: ties keep report order
                    .FirstOrDefault();
        }
    }

    private static string? PointValue(TrialGroup g, string axis) => g.Point.FirstOrDefault(p => p.Key == axis).Value;

    /// <summary>Orders axis points value by value, numbers numerically, anything else ordinally.</summary>
    internal sealed class PointComparer : IComparer<IReadOnlyList<string>>, IComparer<string>
    {
        public static readonly PointComparer Instance = new();

        public int Compare(IReadOnlyList<string>? x, IReadOnlyList<string>? y)
        {
            for (int i = 0; i < Math.Min(x!.Count, y!.Count); i++)
            {
                int c = Compare(x[i], y[i]);
                if (c != 0) return c;
            }
            return x.Count.CompareTo(y.Count);
        }

        public int Compare(string? x, string? y)
        {
            bool nx = double.TryParse(x, NumberStyles.Float, CultureInfo.InvariantCulture, out double dx);
            bool ny = double.TryParse(y, NumberStyles.Float, CultureInfo.InvariantCulture, out double dy);
            if (nx && ny) return dx.CompareTo(dy);
            if (nx != ny) return nx ? -1 : 1;
            return string.CompareOrdinal(x, y);
        }
    }
}
