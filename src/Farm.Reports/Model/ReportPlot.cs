namespace Farm.Reports.Model;

public enum PlotShape
{
    /// <summary>One bar per category, with error bars where the points have them.</summary>
    Bars,
    /// <summary>One bar per category made of one segment per series.</summary>
    StackedBars,
    /// <summary>One bar per series side by side in each category.</summary>
    GroupedBars,
    /// <summary>One line per series over the categories (an axis's values), with error bars.</summary>
    Lines,
    /// <summary>A tornado: per category (a cost key) a bar from <see cref="ReportPlot.Reference"/> to each series' value (low end, high end).</summary>
    Tornado,
}

/// <summary>A plotted value (already multiplied by the plot's <see cref="ReportPlot.Scale"/>), its error-bar half-width, and the group it comes from.</summary>
public sealed record PlotPoint(double? Value, double? Error, string? GroupId);

/// <summary>A series: its legend name, the figure path it plots, and one point per category (null value: nothing to draw).</summary>
public sealed record PlotSeries(string Name, string Figure, IReadOnlyList<PlotPoint> Points);

/// <summary>
/// A plot of the report, as data. Renderers draw it (HTML: inline SVG through ScottPlot) or list
/// its data (Markdown). <see cref="Kind"/>: elapsed, exits, emulation, zaps, lock-acquisitions,
/// lock-wait, lock-wait-distribution, axis; <see cref="Id"/> is unique in the report.
/// </summary>
public sealed record ReportPlot(
    string Id,
    string Kind,
    string Title,
    string? Caption,
    PlotShape Shape,
    string ValueAxis,
    string CategoryAxis,
    IReadOnlyList<string> Categories,
    IReadOnlyList<PlotSeries> Series,
    double Scale = 1,
    IReadOnlyList<double>? NumericCategories = null)
{
    public bool HasData => Series.Any(s => s.Points.Any(p => p.Value is not null));

    /// <summary>Draw the value axis on a logarithmic scale (for figures that span orders of magnitude, like wait percentiles).</summary>
    public bool LogScale { get; init; }

    /// <summary>Tornado plots: the value the bars start from (the change at the sweep's costs).</summary>
    public double? Reference { get; init; }
}
