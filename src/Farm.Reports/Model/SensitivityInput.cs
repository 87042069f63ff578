using System.Globalization;
using Farm.Simulation.Results;

namespace Farm.Reports.Model;

public enum SensitivityKind { Low, High, Draw }

/// <summary>What a sensitivity trial is: one key at the low or high end of its plausible range, or Monte Carlo draw N (1-based).</summary>
public sealed record SensitivityRole(SensitivityKind Kind, string? Key, int Draw)
{
    /// <summary>The sweep's label text: <c>low:cost.exit</c>, <c>high:cost.exit</c>, <c>draw:3</c>; null when it is none of these.</summary>
    public static SensitivityRole? Parse(string label)
    {
        int colon = label.IndexOf(':');
        if (colon <= 0 || colon == label.Length - 1) return null;
        string kind = label[..colon], value = label[(colon + 1)..];
        return kind switch
        {
            "low" => new SensitivityRole(SensitivityKind.Low, value, 0),
            "high" => new SensitivityRole(SensitivityKind.High, value, 0),
            "draw" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int d) && d > 0 => new SensitivityRole(SensitivityKind.Draw, null, d),
            _ => null,
        };
    }

    public override string ToString() => Kind switch
    {
        SensitivityKind.Low => $"low:{Key}",
        SensitivityKind.High => $"high:{Key}",
        _ => $"draw:{Draw}",
    };
}

/// <summary>
/// A sensitivity trial of a sweep: its result, its role, and the trial id (<c>trial.id</c>) of the
/// ordinary trial it varies (same workload, variant, axis values and seed, every cost key as the
/// sweep sets it). The report attaches it to that trial's group.
/// </summary>
public sealed record SensitivityTrial(TrialResult Result, string CenterTrialId, SensitivityRole Role);
