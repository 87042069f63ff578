using Farm.Reports.Model;
using Farm.Simulation.Results;

namespace Farm.Reports.Aggregation;

/// <summary>
/// Where a trial sits in its sweep, in the sweep's own words: the variant's name (null when the
/// sweep has no variants), the values of the sweep's axes in the spec's order, and the
/// sensitivity role of a sensitivity trial. A report given places groups trials by them (never by
/// guessing from the trial's settings), titles columns with the variant names and finds the
/// baseline among them. A trial held by two positions is given once per position.
/// </summary>
public sealed record TrialPlace(string? Variant, IReadOnlyList<KeyValuePair<string, string>> Point, SensitivityRole? Sensitivity = null)
{
    /// <summary>The label keys a sweep gives every position besides its axes (docs/sweeps.md).</summary>
    public const string WorkloadLabel = "workload", VariantLabel = "variant", SeedLabel = "seed", SensitivityLabel = "sensitivity";

    /// <summary>
    /// A position's labels as the store keeps them (<c>workload</c>, <c>variant</c>, each axis,
    /// <c>sensitivity</c>, <c>seed</c>): every key other than these four is an axis, in label order.
    /// </summary>
    public static TrialPlace FromLabels(IEnumerable<KeyValuePair<string, string>> labels)
    {
        string? variant = null;
        SensitivityRole? role = null;
        var point = new List<KeyValuePair<string, string>>();
        foreach (var (key, value) in labels)
        {
            switch (key)
            {
                case WorkloadLabel or SeedLabel: break;
                case VariantLabel: variant = value; break;
                case SensitivityLabel: role = SensitivityRole.Parse(value); break;
                default: point.Add(KeyValuePair.Create(key, value)); break;
            }
        }
        return new TrialPlace(variant, point, role);
    }
}

/// <summary>
/// What a report keeps of one trial for the rows that show trials one by one (a before/after
/// table's seed rows, the failures, the JSON's trial list): not its result, which is folded into
/// the group's <see cref="RunningStats"/> and dropped.
/// </summary>
public sealed record TrialRow(string Id, long Seed, Outcome Outcome, string? Error, double? Elapsed)
{
    public bool Completed => Outcome == Outcome.Completed;
}
