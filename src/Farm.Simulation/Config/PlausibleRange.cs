using System.Globalization;

namespace Farm.Simulation.Config;

/// <summary>
/// The range (low, high) in which a cost key's true value plausibly lies, from the spread its
/// sources give (docs/costs.md, "Plausible ranges"). Sensitivity sweeps set a key to each end and
/// draw values from it. Not a validity bound: any value the key's Min/Max allow may be set.
/// </summary>
public sealed record PlausibleRange(double Low, double High)
{
    public bool Contains(double v) => v >= Low && v <= High;

    /// <summary>"1350..2000".</summary>
    public override string ToString() =>
        $"{Low.ToString("R", CultureInfo.InvariantCulture)}..{High.ToString("R", CultureInfo.InvariantCulture)}";
}
