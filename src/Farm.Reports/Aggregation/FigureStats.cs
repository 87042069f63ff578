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

    public static FigureStats Of(IReadOnlyList<double> values)
    {
        int n = values.Count;
        if (n == 0) return Empty;
        double mean = values.Sum() / n;
        double min = values.Min(), max = values.Max();
        if (n == 1) return new FigureStats(1, mean, null, null, null, min, max);
        double ss = 0;
        foreach (double v in values) ss += (v - mean) * (v - mean);
        double sd = Math.Sqrt(ss / (n - 1));
        double half = TQuantile975(n - 1) * sd / Math.Sqrt(n);
        return new FigureStats(n, mean, sd, mean - half, mean + half, min, max);
    }

    /// <summary>The 0.975 quantile of Student's t distribution (two-sided 95%).</summary>
    public static double TQuantile975(int degreesOfFreedom) =>
        degreesOfFreedom < 1
            ? throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "at least 1")
            : StudentT.InvCDF(0, 1, degreesOfFreedom, 0.975);
}
