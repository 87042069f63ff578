using Farm.Reports.Model;
using Farm.Reports.Rendering;
using Xunit;

namespace Farm.Reports.Tests;

public class FormatTests
{
    [Theory]
    [InlineData(68.0412, "s", 1, "68.04 s")]
    [InlineData(0.0007654528, "µs", 1e6, "765.5 µs")]
    [InlineData(0.0087, "s", 1, "0.00870 s")]
    [InlineData(0, "ms", 1e3, "0 ms")]
    [InlineData(1234.5, "s", 1, "1,235 s")]
    public void Times(double seconds, string unit, double scale, string expected) => Assert.Equal(expected, Format.Time(seconds, unit, scale));

    [Theory]
    [InlineData(2.0, "s", 1)]
    [InlineData(0.5, "ms", 1e3)]
    [InlineData(1e-3, "ms", 1e3)]
    [InlineData(2e-4, "µs", 1e6)]
    public void TimeUnit_FollowsTheLargestMean(double max, string unit, double scale) => Assert.Equal((unit, scale), Format.TimeUnit(max));

    [Theory]
    [InlineData(3085, "3,085")]
    [InlineData(96.7, "96.7")]
    [InlineData(2.5, "2.50")]
    [InlineData(0.0002341, "0.0002341")]
    [InlineData(-12, "-12")]
    public void Counts(double v, string expected) => Assert.Equal(expected, Format.Count(v));

    [Theory]
    [InlineData(0.853, "-14.7%")]
    [InlineData(1.03, "+3.0%")]
    [InlineData(1.0, "0.0%")]
    [InlineData(0.99999, "0.0%")]
    [InlineData(4.798, "+379.8%")]
    public void Changes(double ratio, string expected) => Assert.Equal(expected, Format.Change(ratio));

    [Fact]
    public void Ratios_AndExactNumbers()
    {
        Assert.Equal("×0.853", Format.Ratio(0.8531));
        Assert.Equal(0.1 + 0.2, double.Parse(Format.Exact(0.1 + 0.2), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void ACategoricalAxis_IsPlottedInItsOwnOrder()
    {
        var results = new[] { "linux-3.x-erms", "linux-3.x" }.SelectMany(flavour => new[] { "kvm-3.1", "kvm-3.3" }.Select(p =>
            Sweeps.Run("micro/pt-clear.yaml", ("policy", p), ("guest.flavour", flavour)))).ToList();
        var report = ReportBuilder.Build(results, new ReportInfo());
        var axis = report.Plots().Single(p => p.Kind == "axis");
        Assert.Equal("plot-axis-pt-clear-guest-flavour", axis.Id);
        Assert.Equal(["linux-3.x", "linux-3.x-erms"], axis.Categories);
        Assert.Null(axis.NumericCategories);
        Assert.Equal(["kvm-3.1", "kvm-3.3"], axis.Series.Select(s => s.Name));
        string svg = SvgPlots.Render(axis);
        Assert.Contains("linux-3.x-erms", svg);
        Assert.StartsWith("<svg", svg);
    }
}
