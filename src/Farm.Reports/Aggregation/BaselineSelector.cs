namespace Farm.Reports.Aggregation;

/// <summary>
/// Chooses the groups that others are compared against. A matching group is its own baseline;
/// within a workload every other group is compared with a matching group at the same values of
/// the axes on which the matching groups differ (so kvm-3.1 at vm.vcpus=4 is the baseline of
/// kvm-3.3 at vm.vcpus=4, and a baseline picked by an axis value serves every point), preferring
/// one of the same variant.
/// </summary>
public sealed class BaselineSelector
{
    private readonly Func<TrialGroup, IReadOnlySet<string>, bool> _match;

    private BaselineSelector(string description, Func<TrialGroup, IReadOnlySet<string>, bool> match)
    {
        Description = description;
        _match = match;
    }

    /// <summary>What the selector picks, for the report header.</summary>
    public string Description { get; }

    /// <summary>The default: policy kvm-3.1 with none of its preset mmu.* switches overridden.</summary>
    public static BaselineSelector Default { get; } =
        new("kvm-3.1 with no mmu.* switch overridden", (g, _) => g.Policy == "kvm-3.1" && g.Switches.Count == 0);

    /// <summary>
    /// A group label as the report prints it: a sweep's variant name ("fix2-retry"), "kvm-3.3",
    /// "kvm-3.1 + mmu.allow_low_byte_write=true", "kvm-3.1, vm.vcpus=4", or a bare axis value such
    /// as "3" (the groups whose axis value is 3). Parts are separated by "+" or "," in any order.
    /// A label that is the name of one of the report's variants picks that variant's groups, and
    /// nothing else. Otherwise a group matches when every part names its variant, its policy, one
    /// of its switches or axis values (key=value), or one of its axis values; and, unless its
    /// variant is named, every switch the group has is named (so "kvm-3.1" does not pick
    /// "kvm-3.1 + mmu.prefetch=false").
    /// </summary>
    public static BaselineSelector ByLabel(string label)
    {
        var wanted = Parts(label);
        if (wanted.Count == 0) throw new ArgumentException("a baseline label names a variant, a policy, a key=value or an axis value, e.g. kvm-3.1", nameof(label));
        string whole = label.Trim();
        return new(whole, (g, variants) =>
        {
            if (variants.Contains(whole)) return g.VariantName == whole;
            var pairs = g.Switches.Concat(g.Point).Select(p => $"{p.Key}={p.Value}").ToHashSet(StringComparer.Ordinal);
            bool named(string part) => part == g.VariantName || part == g.Policy || pairs.Contains(part) || (!part.Contains('=') && g.Point.Any(p => p.Value == part));
            bool variantNamed = g.VariantName is { } v && wanted.Contains(v);
            return wanted.All(named) && (variantNamed || g.Switches.All(s => wanted.Contains($"{s.Key}={s.Value}")));
        });
    }

    /// <summary>
    /// The groups whose configuration has these values (e.g. a sweep variant's keys). A policy preset's
    /// switches not named here must be at the preset's value.
    /// </summary>
    public static BaselineSelector ByConfig(IReadOnlyDictionary<string, string> values, string? description = null) =>
        new(description ?? string.Join(", ", values.Select(kv => $"{kv.Key}={kv.Value}")), (g, _) =>
            values.All(kv => string.Equals(g.ConfigValue(kv.Key), kv.Value, StringComparison.OrdinalIgnoreCase)) &&
            g.Switches.All(s => values.ContainsKey(s.Key)));

    /// <summary>Any predicate over groups, with a description for the report header.</summary>
    public static BaselineSelector Where(Func<TrialGroup, bool> predicate, string description) => new(description, (g, _) => predicate(g));

    /// <summary>Whether <paramref name="group"/> is a baseline; <paramref name="variantNames"/> are the report's variant names.</summary>
    public bool Matches(TrialGroup group, IReadOnlySet<string>? variantNames = null) => _match(group, variantNames ?? EmptySet);

    private static readonly IReadOnlySet<string> EmptySet = new HashSet<string>();

    private static HashSet<string> Parts(string label) =>
        label.Split(['+', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);

    public override string ToString() => Description;
}
