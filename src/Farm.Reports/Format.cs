using System.Globalization;

namespace Farm.Reports;

/// <summary>How numbers read in tables (invariant culture; CSV and JSON carry exact values instead).</summary>
public static class Format
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The unit elapsed times of a workload are shown in, chosen by their largest mean: s, ms or µs.</summary>
    public static (string Unit, double Scale) TimeUnit(double maxSeconds) =>
        maxSeconds >= 1 ? ("s", 1) : maxSeconds >= 1e-3 ? ("ms", 1e3) : ("µs", 1e6);

    /// <summary>A time in the given unit: "68.04 s", "765.5 µs", "0.00870 s".</summary>
    public static string Time(double seconds, string unit, double scale) => Significant(seconds * scale) + " " + unit;

    /// <summary>A count or a mean of counts: integers with thousands separators, fractions with three significant digits.</summary>
    public static string Count(double v)
    {
        if (double.IsNaN(v) || double.IsInfinity(v)) return v.ToString(Inv);
        double a = Math.Abs(v);
        if (a >= 100 || v == Math.Round(v)) return v.ToString("#,##0", Inv);
        if (a >= 1) return v.ToString(a >= 10 ? "0.0" : "0.00", Inv);
        int decimals = Math.Min(15, 3 - (int)Math.Floor(Math.Log10(a))); // four significant digits: 0.0002341
        return v.ToString("0." + new string('#', decimals), Inv);
    }

    /// <summary>Four significant digits from 1 up (all integer digits above 1000), three below 1 (no exponent for the sizes reports see).</summary>
    public static string Significant(double v)
    {
        double a = Math.Abs(v);
        if (a == 0) return "0";
        if (a < 1) return v.ToString("F" + Math.Min(15, 2 - (int)Math.Floor(Math.Log10(a))), Inv); // three significant digits: 0.00870
        return v.ToString(a >= 1000 ? "#,##0" : a >= 100 ? "0.0" : a >= 10 ? "0.00" : "0.000", Inv);
    }

    /// <summary>A ratio of means: "×0.853".</summary>
    public static string Ratio(double r) => "×" + r.ToString(r >= 100 ? "#,##0" : r >= 10 ? "0.0" : "0.000", Inv);

    /// <summary>A change against a baseline, from the ratio: "-14.7%", "+3.0%", "0.0%".</summary>
    public static string Change(double ratio)
    {
        double pct = (ratio - 1) * 100;
        string s = Math.Abs(pct).ToString(Math.Abs(pct) >= 1000 ? "#,##0" : "0.0", Inv) + "%";
        return pct > 0 && s != "0.0%" ? "+" + s : pct < 0 && s != "0.0%" ? "-" + s : s;
    }

    /// <summary>A share as a percentage: "87%".</summary>
    public static string Percent(double share) => (share * 100).ToString("0", Inv) + "%";

    /// <summary>The exact, round-trippable text of a number for CSV and data attributes.</summary>
    public static string Exact(double v) => v.ToString("R", Inv);
}
