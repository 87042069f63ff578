using System.Xml.Linq;
using Farm.Reports.Model;
using ScottPlot;
using SkiaSharp;

namespace Farm.Reports.Rendering;

/// <summary>
/// Draws a <see cref="ReportPlot"/> with ScottPlot and returns SVG ready to sit inline in an
/// HTML page: no XML declaration, element ids prefixed with the plot id (several plots share
/// one document), a viewBox so that it scales, and a title for screen readers.
/// </summary>
public static class SvgPlots
{
    public const int Width = 960;

    private static readonly Color[] Palette = new ScottPlot.Palettes.Category10().Colors;
    private static readonly Color BarColor = Color.FromHex("#4682b4");

    /// <summary>The sans-serif font the plots measure and name; the first one installed of a few common ones.</summary>
    public static string FontName { get; } = PickFont();

    /// <summary>False when no font is installed at all: the plots are then drawn without any text
    /// (SkiaSharp's Linux build here has no fontconfig; it reads the fonts under /usr/share/fonts,
    /// and with none there it hands out one empty typeface, without glyphs).</summary>
    public static bool CanDrawText { get; } = HasGlyphs(FontName);

    private static bool HasGlyphs(string family)
    {
        using var typeface = SKTypeface.FromFamilyName(family);
        return typeface is { GlyphCount: > 0 };
    }

    public static string Render(ReportPlot plot)
    {
        using var plt = new Plot();
        plt.Font.Set(FontName);
        plt.FigureBackground.Color = Colors.White;
        plt.Axes.Right.MinimumSize = 36; // room for the last tick label of the bottom axis
        plt.Axes.Top.MinimumSize = 12;
        int height = plot.Shape switch
        {
            PlotShape.Lines => Lines(plt, plot),
            PlotShape.Tornado => Tornado(plt, plot),
            _ => Bars(plt, plot),
        };
        return Inline(plt.GetSvgXml(Width, height), plot.Id, plot.Title);
    }

    /// <summary>Horizontal bars, one row per category, the first at the top. Returns the image height.</summary>
    private static int Bars(Plot plt, ReportPlot plot)
    {
        int n = plot.Categories.Count, m = plot.Series.Count;
        double Row(int i) => n - 1 - i;
        // On a log scale a bar runs from 1 (10^0) to the value; values below 1 stay at 1.
        double Scaled(double v) => plot.LogScale ? Math.Log10(Math.Max(v, 1)) : v;
        var bars = new List<Bar>();
        for (int i = 0; i < n; i++)
        {
            double stackBase = 0;
            for (int j = 0; j < m; j++)
            {
                var p = plot.Series[j].Points[i];
                if (p.Value is not { } raw) continue;
                double v = Scaled(raw);
                switch (plot.Shape)
                {
                    case PlotShape.Bars:
                        bars.Add(new Bar { Position = Row(i), Value = v, Error = p.Error ?? 0, Size = 0.7, FillColor = BarColor, LineWidth = 0 });
                        break;
                    case PlotShape.StackedBars:
                        if (v == 0) break;
                        bars.Add(new Bar { Position = Row(i), ValueBase = stackBase, Value = stackBase + v, Size = 0.7, FillColor = Palette[j % Palette.Length], LineWidth = 0 });
                        stackBase += v;
                        break;
                    default:
                        double size = 0.8 / m;
                        bars.Add(new Bar { Position = Row(i) + ((m - 1) / 2.0 - j) * size, Value = v, Size = size * 0.92, FillColor = Palette[j % Palette.Length], LineWidth = 0 });
                        break;
                }
            }
        }
        if (bars.Count > 0) plt.Add.Bars(bars).Horizontal = true;

        plt.Axes.Left.SetTicks(Enumerable.Range(0, n).Select(i => Row(i)).ToArray(), plot.Categories.ToArray());
        plt.Axes.Left.MajorTickStyle.Length = 0;
        plt.Axes.Bottom.Label.Text = plot.ValueAxis;
        plt.Axes.Bottom.Label.FontSize = 13;
        double max = bars.Select(b => Math.Max(b.Value, b.ValueBase) + b.Error).DefaultIfEmpty(0).Max();
        if (plot.LogScale)
        {
            int decades = Math.Max(1, (int)Math.Ceiling(max));
            var ticks = Enumerable.Range(0, decades + 1).Select(d => (double)d).ToArray();
            plt.Axes.Bottom.SetTicks(ticks, ticks.Select(d => Math.Pow(10, d).ToString("#,##0", System.Globalization.CultureInfo.InvariantCulture)).ToArray());
            plt.Axes.SetLimits(0, decades, -0.6, n - 0.4);
        }
        else
            plt.Axes.SetLimits(0, max > 0 ? max * 1.06 : 1, -0.6, n - 0.4);
        plt.Grid.YAxisStyle.MajorLineStyle.Width = 0;

        if (plot.Shape != PlotShape.Bars && m > 1) Legend(plt, plot.Series.Select((s, j) => (s.Name, Palette[j % Palette.Length])));
        int row = plot.Shape == PlotShape.GroupedBars ? 14 * m + 16 : 32;
        return 100 + Math.Max(n, 2) * row + (plot.Shape != PlotShape.Bars && m > 1 ? 36 : 0);
    }

    /// <summary>
    /// A tornado: one row per category (largest swing first, at the top), a bar from the reference
    /// to each series' value, and a vertical line at the reference. Returns the image height.
    /// </summary>
    private static int Tornado(Plot plt, ReportPlot plot)
    {
        int n = plot.Categories.Count;
        double reference = plot.Reference ?? 0;
        double Row(int i) => n - 1 - i;
        var bars = new List<Bar>();
        for (int j = 0; j < plot.Series.Count; j++)
            for (int i = 0; i < n; i++)
                if (plot.Series[j].Points[i].Value is { } v)
                    bars.Add(new Bar { Position = Row(i), ValueBase = reference, Value = v, Size = 0.6, FillColor = Palette[j % Palette.Length], LineWidth = 0 });
        if (bars.Count > 0) plt.Add.Bars(bars).Horizontal = true;
        var line = plt.Add.VerticalLine(reference);
        line.Color = Colors.Black;
        line.LineWidth = 1.5f;
        plt.Axes.Left.SetTicks(Enumerable.Range(0, n).Select(i => Row(i)).ToArray(), plot.Categories.ToArray());
        plt.Axes.Left.MajorTickStyle.Length = 0;
        plt.Axes.Bottom.Label.Text = plot.ValueAxis;
        plt.Axes.Bottom.Label.FontSize = 13;
        double lo = bars.Select(b => b.Value).Append(reference).Min(), hi = bars.Select(b => b.Value).Append(reference).Max();
        double pad = Math.Max((hi - lo) * 0.08, 0.05);
        plt.Axes.SetLimits(lo - pad, hi + pad, -0.6, n - 0.4);
        plt.Grid.YAxisStyle.MajorLineStyle.Width = 0;
        Legend(plt, plot.Series.Select((s, j) => (s.Name, Palette[j % Palette.Length])));
        return 136 + Math.Max(n, 2) * 30;
    }

    /// <summary>One line per series over the categories, with error bars. Returns the image height.</summary>
    private static int Lines(Plot plt, ReportPlot plot)
    {
        var xs = plot.NumericCategories?.ToArray() ?? Enumerable.Range(0, plot.Categories.Count).Select(i => (double)i).ToArray();
        double maxY = 0;
        for (int j = 0; j < plot.Series.Count; j++)
        {
            var s = plot.Series[j];
            var idx = Enumerable.Range(0, xs.Length).Where(i => s.Points[i].Value is not null).ToArray();
            if (idx.Length == 0) continue;
            double[] x = idx.Select(i => xs[i]).ToArray(), y = idx.Select(i => s.Points[i].Value!.Value).ToArray();
            double[] err = idx.Select(i => s.Points[i].Error ?? 0).ToArray();
            var color = Palette[j % Palette.Length];
            var line = plt.Add.Scatter(x, y, color);
            line.LegendText = s.Name;
            line.LineWidth = 2;
            line.MarkerSize = 8;
            var bars = plt.Add.ErrorBar(x, y, err);
            bars.Color = color;
            maxY = Math.Max(maxY, y.Zip(err, (a, b) => a + b).Max());
        }
        plt.Axes.Bottom.SetTicks(xs, plot.Categories.ToArray());
        plt.Axes.Bottom.Label.Text = plot.CategoryAxis;
        plt.Axes.Left.Label.Text = plot.ValueAxis;
        plt.Axes.Bottom.Label.FontSize = plt.Axes.Left.Label.FontSize = 13;
        double span = xs.Length > 1 ? xs.Max() - xs.Min() : 1;
        plt.Axes.SetLimits(xs.Min() - span * 0.05, xs.Max() + span * 0.05, 0, maxY > 0 ? maxY * 1.1 : 1);
        Legend(plt, null);
        return 420;
    }

    private static void Legend(Plot plt, IEnumerable<(string Name, Color Color)>? items)
    {
        if (items is not null)
            foreach (var (name, color) in items)
                plt.Legend.ManualItems.Add(new LegendItem { LabelText = name, FillColor = color });
        plt.Legend.FontSize = 12;
        plt.Legend.Orientation = Orientation.Horizontal;
        plt.ShowLegend(Edge.Bottom);
    }

    /// <summary>Makes ScottPlot's standalone SVG document an inline element with ids unique in the page.</summary>
    internal static string Inline(string svgXml, string plotId, string title)
    {
        var doc = XDocument.Parse(svgXml);
        var svg = doc.Root ?? throw new InvalidOperationException("the plot produced no SVG");
        XNamespace ns = svg.Name.Namespace;
        // Skia numbers clip paths from a process-wide counter: renumber them in document order, so
        // that ids are unique in the page and the same plot gives the same text every time.
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in svg.DescendantsAndSelf().Select(e => e.Attribute("id")).OfType<XAttribute>())
        {
            string name = $"{plotId}-d{renamed.Count + 1}";
            renamed[id.Value] = name;
            id.Value = name;
        }
        foreach (var a in svg.DescendantsAndSelf().SelectMany(e => e.Attributes()).Where(a => !a.IsNamespaceDeclaration && a.Name.LocalName != "id"))
        {
            if (a.Name.LocalName == "href" && a.Value.StartsWith('#') && renamed.TryGetValue(a.Value[1..], out var target))
                a.Value = "#" + target;
            else if (a.Value.Contains("url(#", StringComparison.Ordinal))
                foreach (var (from, to) in renamed)
                    a.Value = a.Value.Replace($"url(#{from})", $"url(#{to})", StringComparison.Ordinal);
        }
        string width = svg.Attribute("width")?.Value ?? Width.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string height = svg.Attribute("height")?.Value ?? "400";
        svg.SetAttributeValue("viewBox", $"0 0 {width} {height}");
        svg.SetAttributeValue("role", "img");
        svg.SetAttributeValue("aria-labelledby", $"{plotId}-title");
        svg.SetAttributeValue("data-plot-svg", plotId);
        svg.AddFirst(new XElement(ns + "title", new XAttribute("id", $"{plotId}-title"), title));
        return svg.ToString(SaveOptions.DisableFormatting);
    }

    private static string PickFont()
    {
        string[] wanted = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica"];
        var installed = SKFontManager.Default.FontFamilies.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return wanted.FirstOrDefault(installed.Contains) ?? Fonts.Sans;
    }
}
