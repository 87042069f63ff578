namespace Farm.Reports.Aggregation;

/// <summary>
/// The trials of one workload at one place of the sweep: one variant at one point of its axes
/// (or, for results with no sweep, the same model version and configuration except the seed
/// and the engine, which never changes a result). Statistics come from the completed trials only;
/// host-bug and error trials are counted and listed.
/// </summary>
public sealed class TrialGroup
{
    internal TrialGroup(string workload, string modelVersion, string policy, IReadOnlyList<KeyValuePair<string, string>> config,
        IReadOnlyList<KeyValuePair<string, string>> switches, string? variantName, TrialCounts counts, IReadOnlyList<TrialRow> rows,
        IReadOnlyDictionary<string, FigureStats> stats, IReadOnlyList<string> errors)
    {
        Workload = workload;
        ModelVersion = modelVersion;
        Policy = policy;
        Config = config;
        Switches = switches;
        VariantName = variantName;
        Counts = counts;
        Trials = rows;
        Stats = stats;
        ErrorMessages = errors;
        Variant = variantName ?? policy + string.Concat(switches.Select(s => $" + {s.Key}={s.Value}"));
    }

    /// <summary>Stable within a report: g1, g2, ... in report order.</summary>
    public string Id { get; internal set; } = "";
    public string Workload { get; }
    public string ModelVersion { get; }
    public string Policy { get; }

    /// <summary>The resolved configuration without the seed, in the result's key order (of the group's first trial).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Config { get; }

    /// <summary>The policy preset's mmu.* switches that this group sets otherwise than the preset.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Switches { get; }

    /// <summary>The sweep's name for the group's variant (<c>fix2-retry</c>); null for results with no sweep, or a sweep without variants.</summary>
    public string? VariantName { get; }

    /// <summary>The group's values of its workload's axes: the sweep's axes, or for results with no sweep the keys that vary across groups.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Point { get; internal set; } = [];

    /// <summary>The sweep's variant name, else the policy and switches: "kvm-3.1 + mmu.allow_low_byte_write=true".</summary>
    public string Variant { get; }

    /// <summary>"vm.vcpus=4, vm.paging=i386", or empty when nothing is swept.</summary>
    public string PointLabel => string.Join(", ", Point.Select(p => $"{p.Key}={p.Value}"));

    /// <summary>What tables and plots call the group: the variant, then the point.</summary>
    public string Label => Point.Count == 0 ? Variant : $"{Variant}, {PointLabel}";

    public TrialCounts Counts { get; }

    /// <summary>The group's trials by seed (then id), at most <see cref="ReportLimits.TrialRowsPerGroup"/> (the lowest seeds); <see cref="Counts"/> counts them all.</summary>
    public IReadOnlyList<TrialRow> Trials { get; }
    public int TrialCount => Counts.Total;
    public int CompletedCount => Counts.Completed;
    public int FailedCount => Counts.HostBug + Counts.Error;
    public int HostBugs => Counts.HostBug;
    public int Errors => Counts.Error;

    /// <summary>The distinct error messages of the failed trials (at most <see cref="ReportLimits.ErrorsPerGroup"/>).</summary>
    public IReadOnlyList<string> ErrorMessages { get; }

    /// <summary>Statistics of every numeric figure (dotted RESULTS.md paths) over the completed trials.</summary>
    public IReadOnlyDictionary<string, FigureStats> Stats { get; }

    /// <summary>The group this one is compared against (itself for a baseline group), or null when the report has none for it.</summary>
    public TrialGroup? Baseline { get; internal set; }
    public bool IsBaseline => ReferenceEquals(Baseline, this);

    /// <summary>Report order of the sweep's variant (spec order), for ordering groups; int.MaxValue without a sweep.</summary>
    internal int VariantOrder { get; init; } = int.MaxValue;

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

/// <summary>Trials by outcome.</summary>
public sealed record TrialCounts(int Completed, int HostBug, int Error)
{
    public int Total => Completed + HostBug + Error;
    public int Failed => HostBug + Error;
}

/// <summary>How much per-trial data a report keeps (the rest is counted and in every statistic): docs/reports.md, "Memory".</summary>
public static class ReportLimits
{
    /// <summary>Trials listed per group (the lowest seeds): the before/after table's seed rows and the JSON's trial list.</summary>
    public const int TrialRowsPerGroup = 100;

    /// <summary>Failed trials listed in the failures table (and JSON); more are counted.</summary>
    public const int FailuresListed = 1000;

    /// <summary>Distinct error messages kept per group (a failed-count cell's tooltip).</summary>
    public const int ErrorsPerGroup = 5;
}
