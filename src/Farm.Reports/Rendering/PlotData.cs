using Farm.Reports.Model;

namespace Farm.Reports.Rendering;

/// <summary>The numbers behind a plot as a table: one row per category, one column per series.</summary>
public static class PlotData
{
    public static ReportTable Table(ReportPlot plot)
    {
        var columns = plot.Series.Select(s => new TableColumn(s.Name, Title: s.Figure)).ToList();
        var rows = plot.Categories.Select((category, i) => new TableRow(category, plot.Series.Select(s => Cell(plot, s, s.Points[i])).ToList())).ToList();
        string caption = plot.Scale == 1 ? plot.ValueAxis : $"{plot.ValueAxis}; values are the figures × {Format.Exact(plot.Scale)}";
        return new ReportTable($"{plot.Id}-data", "plot-data", $"Data: {plot.Title}", caption, plot.CategoryAxis, columns, rows);
    }

    private static TableCell Cell(ReportPlot plot, PlotSeries series, PlotPoint p)
    {
        if (p.Value is not { } v) return p.GroupId is null ? TableCell.Blank : new TableCell("✗", Mark: CellMark.Failed, Title: "no completed trial");
        string text = Format.Significant(v) + (p.Error is { } e && e != 0 ? " ± " + Format.Significant(e) : "");
        var source = p.GroupId is null ? null : new CellSource(p.GroupId, series.Figure, Statistic.Mean) { Scale = plot.Scale };
        return new TableCell(text, v, source);
    }
}
