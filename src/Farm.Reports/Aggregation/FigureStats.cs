using MathNet.Numerics.Distributions;

namespace Farm.Reports.Aggregation;

/// <summary>
/// One figure over the completed trials of a group: n, mean, sample standard deviation, the 95%
/// confidence interval of the mean (Student t with n-1 degrees of freedom), min and max.
/// With no value everything but N is null; with one value the spread (Sd, CI) is null, not zero.
/// </summary>
public sealed record FigureStats(int N, double? Mean, double? Sd, double? CiLow, double? CiHigh, double? Min, double? Max)
{
    public static readonly FigureStats Empty = new(0, null, null, null, null, null, null);

    /// <summary>Half the width of the 95% confidence interval (t * sd / sqrt(n)).</summary>
    public double? CiHalfWidth => CiHigh - Mean;

    /// <summary>The statistics of <paramref name="values"/>, computed as <see cref="RunningStats"/> does (exact sums: any order gives the same).</summary>
    public static FigureStats Of(IReadOnlyList<double> values)
    {
        var running = new RunningStats();
        foreach (double v in values) running.Add(v);
        return running.ToStats();
    }

    /// <summary>The 0.975 quantile of Student's t distribution (two-sided 95%).</summary>
    public static double TQuantile975(int degreesOfFreedom) =>
        degreesOfFreedom < 1
            ? throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "at least 1")
            : StudentT.InvCDF(0, 1, degreesOfFreedom, 0.975);
}
