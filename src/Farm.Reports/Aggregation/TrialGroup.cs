using Farm.Simulation.Results;

namespace Farm.Reports.Aggregation;

/// <summary>
/// Trials with the same workload, model version and configuration except the seed (and the
/// engine, which never changes a result). Statistics come from the completed trials only;
/// host-bug and error trials are counted and listed in <see cref="Failed"/>.
/// </summary>
public sealed class TrialGroup
{
    internal TrialGroup(string workload, string modelVersion, string policy, IReadOnlyList<KeyValuePair<string, string>> config,
        IReadOnlyList<KeyValuePair<string, string>> switches, IReadOnlyList<TrialResult> trials, IReadOnlyList<string> figures)
    {
        Workload = workload;
        ModelVersion = modelVersion;
        Policy = policy;
        Config = config;
        Switches = switches;
        Trials = trials;
        Completed = trials.Where(t => t.Outcome == "completed").ToList();
        Failed = trials.Where(t => t.Outcome != "completed").ToList();
        Variant = policy + string.Concat(switches.Select(s => $" + {s.Key}={s.Value}"));
        var stats = new Dictionary<string, FigureStats>(StringComparer.Ordinal);
        foreach (string f in figures)
            stats[f] = FigureStats.Of(Completed.Select(t => t.Double(f)).ToList());
        Stats = stats;
    }

    /// <summary>Stable within a report: g1, g2, ... in report order.</summary>
    public string Id { get; internal set; } = "";
    public string Workload { get; }
    public string ModelVersion { get; }
    public string Policy { get; }

    /// <summary>The resolved configuration without the seed, in the result's key order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Config { get; }

    /// <summary>The policy preset's mmu.* switches that this group sets otherwise than the preset.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Switches { get; }

    /// <summary>The group's values of its workload's swept axes (keys that vary across the groups, other than the policy and its switches).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Point { get; internal set; } = [];

    /// <summary>Policy and switches: "kvm-3.1" or "kvm-3.1 + mmu.allow_low_byte_write=true".</summary>
    public string Variant { get; }

    /// <summary>"vm.vcpus=4, vm.paging=i386", or empty when nothing is swept.</summary>
    public string PointLabel => string.Join(", ", Point.Select(p => $"{p.Key}={p.Value}"));

    /// <summary>What tables and plots call the group: the variant, then the point.</summary>
    public string Label => Point.Count == 0 ? Variant : $"{Variant}, {PointLabel}";

    /// <summary>Every trial of the group, ordered by seed.</summary>
    public IReadOnlyList<TrialResult> Trials { get; }
    public IReadOnlyList<TrialResult> Completed { get; }
    public IReadOnlyList<TrialResult> Failed { get; }
    public int HostBugs => Failed.Count(t => t.Outcome == "host-bug");
    public int Errors => Failed.Count(t => t.Outcome != "host-bug");

    /// <summary>Statistics of every numeric figure (dotted RESULTS.md paths) over the completed trials.</summary>
    public IReadOnlyDictionary<string, FigureStats> Stats { get; }

    /// <summary>The group this one is compared against (itself for a baseline group), or null when the report has none for it.</summary>
    public TrialGroup? Baseline { get; internal set; }
    public bool IsBaseline => ReferenceEquals(Baseline, this);

    public string? ConfigValue(string key) => Config.FirstOrDefault(kv => kv.Key == key).Value;

    public FigureStats Stat(string figure) => Stats.TryGetValue(figure, out var s) ? s : FigureStats.Empty;

    public double? Mean(string figure) => Stat(figure).Mean;

    /// <summary>Mean of <paramref name="figure"/> over the mean of <paramref name="other"/>; null when either is missing or the divisor is zero.</summary>
    public double? RatioTo(TrialGroup? other, string figure)
    {
        double? mine = Mean(figure), theirs = other?.Mean(figure);
        return mine is null || theirs is null or 0 ? null : mine / theirs;
    }

    /// <summary>Ratio of means against <see cref="Baseline"/>.</summary>
    public double? Ratio(string figure) => RatioTo(Baseline, figure);

    public override string ToString() => $"{Id} {Workload}: {Label}";
}
