using System.Globalization;
using System.Text.Json.Nodes;
using Farm.Simulation.Config;
using Farm.Simulation.Results;

namespace Farm.Reports.Aggregation;

/// <summary>The groups of one workload, its swept axes and its comparison sets.</summary>
public sealed record WorkloadGroups(string Workload, IReadOnlyList<TrialGroup> Groups, IReadOnlyList<string> Axes)
{
    /// <summary>Groups at the same point of the axes (the columns of one before/after table), in report order.</summary>
    public IReadOnlyList<IReadOnlyList<TrialGroup>> ComparisonSets =>
        Groups.GroupBy(g => g.PointLabel).Select(s => (IReadOnlyList<TrialGroup>)s.ToList()).ToList();
}

/// <summary>Trial results grouped by configuration (seed and engine aside), with statistics and baselines.</summary>
public sealed class Aggregate
{
    /// <summary>Keys that never make two trials different groups: the seed (and the engine, which is not in a result's config).</summary>
    public static readonly IReadOnlySet<string> IgnoredKeys = new HashSet<string>(StringComparer.Ordinal) { "seed", "engine" };

    /// <summary>The mmu.* keys that a policy preset sets: a group that sets them otherwise has them as switches, not axes.</summary>
    public static readonly IReadOnlySet<string> PresetKeys =
        ConfigSchema.Preset("kvm-3.1").Keys.Concat(ConfigSchema.Preset("kvm-3.3").Keys).ToHashSet(StringComparer.Ordinal);

    private Aggregate(IReadOnlyList<TrialResult> results, IReadOnlyList<string> figures, IReadOnlyList<WorkloadGroups> workloads)
    {
        Results = results;
        Figures = figures;
        Workloads = workloads;
        Groups = workloads.SelectMany(w => w.Groups).ToList();
    }

    public IReadOnlyList<TrialResult> Results { get; }

    /// <summary>Every numeric figure path of the results, in RESULTS.md order.</summary>
    public IReadOnlyList<string> Figures { get; }
    public IReadOnlyList<WorkloadGroups> Workloads { get; }

    /// <summary>All groups in report order: by workload, then axis point, then policy and switches.</summary>
    public IReadOnlyList<TrialGroup> Groups { get; }

    public static Aggregate Build(IReadOnlyList<TrialResult> results, BaselineSelector? baseline = null)
    {
        baseline ??= BaselineSelector.Default;
        var figures = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in results.Where(r => r.Outcome == "completed").Concat(results.Where(r => r.Outcome != "completed")))
            foreach (var (path, _) in r.Figures())
                if (seen.Add(path)) figures.Add(path);

        var workloads = new List<WorkloadGroups>();
        foreach (var byWorkload in results.GroupBy(Workload).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var groups = byWorkload
                .GroupBy(GroupKey, StringComparer.Ordinal)
                .Select(g => NewGroup(byWorkload.Key, g.OrderBy(Seed).ThenBy(r => r.Id, StringComparer.Ordinal).ToList(), figures))
                .ToList();
            var axes = Axes(groups);
            foreach (var g in groups)
                g.Point = axes.Select(a => KeyValuePair.Create(a, AxisValue(g, a))).ToList();
            groups = groups
                .OrderBy(g => g.Point.Select(p => p.Value).ToList(), PointComparer.Instance)
                .ThenBy(g => g.Policy, StringComparer.Ordinal)
                .ThenBy(g => g.Switches.Count)
                .ThenBy(g => SwitchOrder(g), StringComparer.Ordinal)
                .ToList();
            AssignBaselines(groups, baseline);
            workloads.Add(new WorkloadGroups(byWorkload.Key, groups, axes));
        }
        int id = 1;
        foreach (var g in workloads.SelectMany(w => w.Groups)) g.Id = $"g{id++}";
        return new Aggregate(results, figures, workloads);
    }

    /// <summary>Switches in the schema's order (fix 1, fix 2, ...), then by value.</summary>
    private static string SwitchOrder(TrialGroup g) =>
        string.Join(";", g.Switches.Select(s => $"{SchemaIndex(s.Key):D4}={s.Value}"));

    private static int SchemaIndex(string key)
    {
        for (int i = 0; i < ConfigSchema.Keys.Count; i++)
            if (ConfigSchema.Keys[i].Name == key) return i;
        return ConfigSchema.Keys.Count;
    }

    private static string Workload(TrialResult r) => Text(r.Root["trial"]?["workload"]) ?? "";
    private static long Seed(TrialResult r) => r.Root["trial"]?["seed"] is JsonValue v && v.TryGetValue(out long s) ? s : 0;
    private static string ModelVersion(TrialResult r) => Text(r.Root["trial"]?["model_version"]) ?? "";

    private static IReadOnlyList<KeyValuePair<string, string>> Config(TrialResult r) =>
        r.Root["trial"]?["config"] is JsonObject config
            ? config.Where(kv => !IgnoredKeys.Contains(kv.Key)).Select(kv => KeyValuePair.Create(kv.Key, Text(kv.Value) ?? "")).ToList()
            : [];

    private static string GroupKey(TrialResult r) =>
        ModelVersion(r) + "\n" + string.Join("\n", Config(r).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));

    private static TrialGroup NewGroup(string workload, List<TrialResult> trials, IReadOnlyList<string> figures)
    {
        var first = trials[0];
        var config = Config(first);
        string policy = config.FirstOrDefault(kv => kv.Key == "policy").Value ?? Text(first.Root["trial"]?["policy"]) ?? "";
        var preset = PresetOf(policy);
        var switches = config.Where(kv => preset.TryGetValue(kv.Key, out var v) && v != kv.Value).ToList();
        return new TrialGroup(workload, ModelVersion(first), policy, config, switches, trials, figures);
    }

    private static IReadOnlyDictionary<string, string> PresetOf(string policy)
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

    /// <summary>Keys whose values differ between the groups of a workload, other than the policy and its preset switches.</summary>
    private static List<string> Axes(IReadOnlyList<TrialGroup> groups)
    {
        var keys = new List<string>();
        foreach (var g in groups)
            foreach (var (k, _) in g.Config)
                if (!keys.Contains(k)) keys.Add(k);
        var axes = keys.Where(k => k != "policy" && !PresetKeys.Contains(k) && groups.Select(g => g.ConfigValue(k) ?? "").Distinct().Count() > 1).ToList();
        if (groups.Select(g => g.ModelVersion).Distinct().Count() > 1) axes.Add("model_version");
        return axes;
    }

    private static string AxisValue(TrialGroup g, string axis) => axis == "model_version" ? g.ModelVersion : g.ConfigValue(axis) ?? "";

    /// <summary>
    /// A matching group is its own baseline. Any other group takes a matching group that has its
    /// values on every axis where the matching groups differ (an axis that all of them share, like
    /// a baseline chosen by axis value, is not compared), preferring one of its own variant;
    /// without one it has no baseline.
    /// </summary>
    private static void AssignBaselines(IReadOnlyList<TrialGroup> groups, BaselineSelector selector)
    {
        var candidates = groups.Where(selector.Matches).ToList();
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

    private static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => node.ToJsonString(),
    };

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
