using System.Globalization;
using System.Text.Json;
using AngleSharp.Html.Parser;
using Farm.Reports.Model;
using Farm.Reports.Rendering;
using Farm.Simulation.Results;
using Xunit;

namespace Farm.Reports.Tests;

public class ReportTests
{
    private static readonly ReportInfo Info = new() { Title = "Reports test sweep", SweepSpec = Sweeps.Spec, SweepId = "test-sweep", Note = "made by the tests" };

    private static Report SmallReport() => ReportBuilder.Build(Sweeps.Small, Info);

    [Fact]
    public void EveryNumberInEveryTable_IsTheAggregateRecomputedFromTheTrials()
    {
        var report = SmallReport();
        var tables = report.Tables().Concat(report.Plots().Select(PlotData.Table)).ToList();
        int checkedCells = 0;
        foreach (var table in tables)
            foreach (var cell in table.Cells().Where(c => c.Value is not null))
            {
                Assert.True(cell.Source is not null, $"{table.Id}: the cell '{cell.Text}' has a number but no source");
                Recompute.AssertClose(Recompute.Expected(report, cell.Source!), cell.Value!.Value, $"{table.Id} {cell.Source}");
                checkedCells++;
            }
        Assert.True(checkedCells > 1000, $"only {checkedCells} cells checked");

        // the grouping partitions the trials
        Assert.Equal(Sweeps.Small.Count, report.Data.Groups.Sum(g => g.TrialCount));
        Assert.Equal(Sweeps.Small.Count, report.TrialCount);
        Assert.All(report.Data.Groups, g => Assert.Equal(Recompute.TrialsOf(report, g.Id).Select(t => t.Id), g.Trials.Select(t => t.Id)));
    }

    [Fact]
    public void ExitAndZapPlots_StackEveryReason_SoTheirBarsAddUpToTheTotals()
    {
        // The stacked plots must name every reason the model counts (exits.ipi and zap.sync came with
        // issue 12): a reason left out makes a bar shorter than exits.total or zap.pages.
        var completed = Sweeps.Small.Where(r => r.Outcome == Outcome.Completed).ToList();
        Assert.NotEmpty(completed);
        Assert.Contains(completed, r => r.Long("exits.ipi") > 0); // the 2-vCPU trials kick each other
        foreach (var r in completed)
        {
            Assert.Equal(r.Long("exits.total"), ReportBuilder.ExitReasons.Sum(e => r.Long(e.Figure)));
            Assert.Equal(r.Long("zap.pages"), ReportBuilder.ZapReasons.Sum(z => r.Long(z.Figure)));
        }
    }

    [Fact]
    public void PlotPoints_AreGroupMeans()
    {
        var report = SmallReport();
        foreach (var plot in report.Plots())
            foreach (var series in plot.Series)
                foreach (var p in series.Points.Where(p => p.GroupId is not null))
                {
                    var g = report.Data.Groups.Single(x => x.Id == p.GroupId);
                    if (g.CompletedCount == 0) Assert.Null(p.Value);
                    else Recompute.AssertClose(Recompute.Expected(report, new CellSource(g.Id, series.Figure, Statistic.Mean) { Scale = plot.Scale }), p.Value!.Value, $"{plot.Id} {series.Name}");
                }
    }

    [Fact]
    public void Contents_BeforeAfter_Ablation_Plots_PerWorkload()
    {
        var report = SmallReport();
        Assert.Equal(["prefetch-drain", "pt-clear", "wrprotect"], report.Sections.Select(s => s.Workload));
        var pt = report.Sections.Single(s => s.Workload == "pt-clear");
        Assert.Equal(["vm.vcpus"], pt.Groups.Axes);
        Assert.Equal(["before-after-pt-clear-1", "ablation-pt-clear-1", "before-after-pt-clear-2", "ablation-pt-clear-2", "groups-pt-clear", "figures-pt-clear"],
            pt.Tables.Select(t => t.Id));
        Assert.Equal(["elapsed", "exits", "emulated-writes", "emulation", "zaps", "lock-acquisitions", "lock-wait", "lock-wait-distribution", "axis"], pt.Plots.Select(p => p.Kind));

        Assert.True(pt.Plots.Single(p => p.Kind == "lock-wait-distribution").LogScale);
        var beforeAfter = pt.Tables[0];
        Assert.Equal("Before/after: pt-clear at vm.vcpus=1", beforeAfter.Title);
        // the fixes in their order in the series (the configuration schema's order)
        Assert.Equal(["kvm-3.1 (baseline)", "kvm-3.1 + mmu.topup_on_pte_write=true", "kvm-3.1 + mmu.retry_non_pt_writes=true",
            "kvm-3.1 + mmu.allow_low_byte_write=true", "kvm-3.1 + mmu.flood_detector=write-count", "kvm-3.3"], beforeAfter.Columns.Select(c => c.Header));
        Assert.Equal(["seed 1", "seed 2", "mean", "± 95% CI", "stdev", "vs baseline"], beforeAfter.Rows.Take(6).Select(r => r.Label));

        var ablation = pt.Tables[1];
        Assert.Equal(["kvm-3.1", "kvm-3.1 + mmu.topup_on_pte_write=true", "kvm-3.1 + mmu.retry_non_pt_writes=true",
            "kvm-3.1 + mmu.allow_low_byte_write=true", "kvm-3.1 + mmu.flood_detector=write-count", "kvm-3.3"], ablation.Rows.Select(r => r.Label));
        Assert.Equal(["before: no fix", "fix 1:", "fix 2:", "fix 3:", "fix 4:", "after: every fix"], ablation.Rows.Select(r => r.Note!.StartsWith("fix", StringComparison.Ordinal) ? r.Note[..6] : r.Note));

        // the axis plot: one line per variant over vm.vcpus 1, 2
        var axis = pt.Plots.Single(p => p.Kind == "axis");
        Assert.Equal(["1", "2"], axis.Categories);
        Assert.Equal([1.0, 2.0], axis.NumericCategories!);
        Assert.Equal(6, axis.Series.Count);

        // prefetch-drain's file sets the 3.3 flood detector, so there is no plain kvm-3.1 to compare with: said, not hidden
        var prefetch = report.Sections.Single(s => s.Workload == "prefetch-drain");
        Assert.Contains(prefetch.Notes, n => n.Contains("No group of this workload is the baseline", StringComparison.Ordinal));
    }

    [Fact]
    public void HostBugTrials_AreShownAsFailures_InHtmlAndMarkdown()
    {
        var report = SmallReport();
        Assert.Equal(2, report.Failures.Count);
        Assert.All(report.Failures, f => Assert.Equal(Outcome.HostBug, f.Outcome));

        var doc = new HtmlParser().ParseDocument(HtmlRenderer.Render(report));
        var section = doc.QuerySelector("section#failures")!;
        Assert.Contains("has-failures", section.ClassList);
        Assert.Equal("2", section.GetAttribute("data-failed"));
        var rows = section.QuerySelectorAll("table#failures-table tbody tr");
        Assert.Equal(2, rows.Length);
        foreach (var f in report.Failures)
        {
            var row = rows.Single(r => r.QuerySelector("th")!.TextContent == f.Trial.Id);
            Assert.Contains("host-bug", row.TextContent);
            Assert.Contains(f.Error, row.TextContent);
        }
        Assert.Contains("2 of 52 trials did not complete", doc.QuerySelector("#status")!.TextContent);
        // the failed runs are marked where they would appear
        var marked = doc.QuerySelectorAll("table[data-table=before-after] td.failed").Select(td => td.TextContent).ToList();
        Assert.Contains("✗ host-bug", marked);
        Assert.Contains("✗ no completed trial", marked);

        string md = MarkdownRenderer.Render(report);
        Assert.Contains("## Failed trials", md);
        Assert.Contains("**✗ 2 of 52 trials did not complete**", md);
        foreach (var f in report.Failures) Assert.Contains($"| {f.Trial.Id} |", md);
        Assert.Contains("**✗ host-bug**", md);
    }

    [Fact]
    public void OnlyFailedTrials_StillRender_InEveryFormat()
    {
        var results = new[] { "1", "2" }.Select(seed => Sweeps.Run("micro/prefetch-drain.yaml", ("policy", "kvm-3.1"), ("seed", seed))).ToList();
        var report = ReportBuilder.Build(results, new ReportInfo());
        Assert.Equal(2, report.HostBugCount);
        string html = HtmlRenderer.Render(report);
        Assert.Contains("Nothing to draw", html);
        Assert.DoesNotContain("<svg", html);
        foreach (var format in Enum.GetValues<ReportFormat>()) Assert.NotEmpty(ReportWriter.Render(report, format));
        using var json = JsonDocument.Parse(JsonRenderer.Render(report));
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("groups")[0].GetProperty("figures").GetProperty("time.elapsed_seconds").GetProperty("mean").ValueKind);
    }

    [Fact]
    public void NoResults_StillRender_InEveryFormat()
    {
        var report = ReportBuilder.Build([], new ReportInfo());
        foreach (var format in Enum.GetValues<ReportFormat>()) Assert.NotEmpty(ReportWriter.Render(report, format));
        Assert.Contains("No trial results", HtmlRenderer.Render(report));
    }

    [Fact]
    public void Html_HoldsEveryTableAndPlot_WithTheModelsNumbers_AndNoScript()
    {
        var report = SmallReport();
        string html = HtmlRenderer.Render(report);
        var doc = new HtmlParser().ParseDocument(html);
        Assert.Empty(doc.QuerySelectorAll("script"));
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);

        var ids = doc.All.Select(e => e.Id).Where(id => !string.IsNullOrEmpty(id)).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());

        foreach (var table in report.Tables())
        {
            var element = doc.GetElementById(table.Id);
            Assert.True(element is not null, $"table {table.Id} is missing");
            Assert.Equal(table.Kind, element!.GetAttribute("data-table"));
            var bodyRows = element.QuerySelectorAll("tbody tr").ToList();
            Assert.Equal(table.Rows.Count, bodyRows.Count);
            for (int r = 0; r < table.Rows.Count; r++)
            {
                if (table.Rows[r].Kind == RowKind.Heading) continue;
                var tds = bodyRows[r].QuerySelectorAll("td").ToList();
                Assert.Equal(table.Rows[r].Cells.Count, tds.Count);
                for (int c = 0; c < tds.Count; c++)
                {
                    var cell = table.Rows[r].Cells[c];
                    Assert.Equal(cell.Text + cell.Detail?.Text, tds[c].TextContent);
                    if (cell.Value is { } v) Assert.Equal(v, double.Parse(tds[c].GetAttribute("data-value")!, CultureInfo.InvariantCulture));
                }
            }
        }
        foreach (var plot in report.Plots())
        {
            var figure = doc.GetElementById(plot.Id);
            Assert.True(figure is not null, $"plot {plot.Id} is missing");
            Assert.Equal(plot.Kind, figure!.GetAttribute("data-plot"));
            if (!plot.HasData) continue;
            var svg = figure.QuerySelector("svg");
            Assert.True(svg is not null, $"plot {plot.Id} has no svg: {figure.TextContent}");
            Assert.True(svg!.QuerySelectorAll("rect, path").Length > 5, $"plot {plot.Id} draws nothing");
            Assert.NotNull(doc.GetElementById($"{plot.Id}-data"));
        }
        Assert.Equal(Sweeps.Spec, doc.GetElementById("sweep-spec")!.TextContent);
    }

    [Fact]
    public void Markdown_HasEveryTable_WithTheSameCells()
    {
        var report = SmallReport();
        var lines = MarkdownRenderer.Render(report).Split('\n');
        foreach (var table in report.Tables().Where(t => t.Kind != "failures"))
        {
            int at = Array.IndexOf(lines, "### " + table.Title);
            Assert.True(at >= 0, $"no heading for {table.Id}");
            var rows = lines.Skip(at + 1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).Skip(2).ToList();
            Assert.Equal(table.Rows.Count, rows.Count);
            for (int r = 0; r < rows.Count; r++)
            {
                var cells = SplitRow(rows[r]);
                string[] label = cells[0].Split("<br>");
                Assert.Equal(table.Rows[r].Label, Unbold(label[0]));
                Assert.Equal(table.Rows[r].Note, label.Length > 1 ? label[1] : null);
                for (int c = 0; c < table.Rows[r].Cells.Count; c++)
                {
                    var cell = table.Rows[r].Cells[c];
                    Assert.Equal(cell.Text + (cell.Detail is { } d ? $" ({d.Text})" : ""), Unbold(cells[c + 1]));
                }
            }
        }
        Assert.Contains(Sweeps.Spec, MarkdownRenderer.Render(report));
    }

    private static List<string> SplitRow(string line)
    {
        var cells = new List<string>();
        var current = new System.Text.StringBuilder();
        for (int i = 1; i < line.Length; i++)
        {
            if (line[i] == '\\' && i + 1 < line.Length) { current.Append(line[++i]); continue; }
            if (line[i] == '|') { cells.Add(current.ToString().Trim()); current.Clear(); continue; }
            current.Append(line[i]);
        }
        return cells;
    }

    private static string Unbold(string s) => s.StartsWith("**", StringComparison.Ordinal) && s.EndsWith("**", StringComparison.Ordinal) && s.Length >= 4 ? s[2..^2] : s;

    [Fact]
    public void Csv_ParsesBackToTheSameNumbers()
    {
        var report = SmallReport();
        // parsed with the runtime's own RFC 4180 reader, not with ours
        using var parser = new Microsoft.VisualBasic.FileIO.TextFieldParser(new StringReader(CsvRenderer.Render(report)))
        {
            TextFieldType = Microsoft.VisualBasic.FileIO.FieldType.Delimited,
            HasFieldsEnclosedInQuotes = true,
            TrimWhiteSpace = false,
        };
        parser.SetDelimiters(",");
        var header = parser.ReadFields()!;
        Assert.Equal(CsvRenderer.Header, header);
        var rows = new List<Dictionary<string, string>>();
        while (!parser.EndOfData)
            rows.Add(header.Zip(parser.ReadFields()!).ToDictionary(x => x.First, x => x.Second));
        // After the figure rows come the derived rows: each fix's share of the 3.1→3.3 gain (and sensitivity rows when a sensitivity ran).
        var derived = rows.Where(r => !report.Data.Figures.Contains(r["figure"])).ToList();
        Assert.Equal(report.GainShares.Count, derived.Count);
        foreach (var (row, share) in derived.Zip(report.GainShares))
        {
            Assert.Equal(("gain_share", share.Fix.Id, share.Before.Id), (row["figure"], row["group"], row["baseline_group"]));
            Assert.Equal(share.Share, Num(row["mean"]));
        }
        rows = rows.Except(derived).ToList();
        Assert.Equal(report.Data.Groups.Count * report.Data.Figures.Count, rows.Count);
        foreach (var row in rows)
        {
            var g = report.Data.Groups.Single(x => x.Id == row["group"]);
            Assert.Equal(g.Label, row["label"]);
            Assert.Equal(g.Workload, row["workload"]);
            string figure = row["figure"];
            var s = g.Stat(figure);
            Assert.Equal(s.N, int.Parse(row["n"], CultureInfo.InvariantCulture));
            Assert.Equal(s.Mean, Num(row["mean"]));
            Assert.Equal(s.Sd, Num(row["sd"]));
            Assert.Equal(s.CiLow, Num(row["ci95_low"]));
            Assert.Equal(s.CiHigh, Num(row["ci95_high"]));
            Assert.Equal(s.Min, Num(row["min"]));
            Assert.Equal(s.Max, Num(row["max"]));
            Assert.Equal(g.Ratio(figure), Num(row["ratio"]));
            Assert.Equal(g.HostBugs, int.Parse(row["host_bug"], CultureInfo.InvariantCulture));
            if (s.Mean is { } mean) Recompute.AssertClose(Recompute.Expected(report, new CellSource(g.Id, figure, Statistic.Mean)), mean, $"csv {g.Id} {figure}");
        }
    }

    private static double? Num(string field) => field.Length > 0 ? double.Parse(field, CultureInfo.InvariantCulture) : null;

    [Fact]
    public void Json_ParsesBackToTheSameNumbers()
    {
        var report = SmallReport();
        using var doc = JsonDocument.Parse(JsonRenderer.Render(report));
        var root = doc.RootElement;
        Assert.Equal("farm-report-1", root.GetProperty("format").GetString());
        Assert.Equal(Sweeps.Spec, root.GetProperty("sweep_spec").GetString());
        Assert.Equal(52, root.GetProperty("trials").GetProperty("total").GetInt32());
        Assert.Equal(2, root.GetProperty("trials").GetProperty("host_bug").GetInt32());
        Assert.Equal(2, root.GetProperty("failures").GetArrayLength());
        var groups = root.GetProperty("groups").EnumerateArray().ToList();
        Assert.Equal(report.Data.Groups.Count, groups.Count);
        foreach (var (g, j) in report.Data.Groups.Zip(groups))
        {
            Assert.Equal(g.Id, j.GetProperty("id").GetString());
            Assert.Equal(g.Label, j.GetProperty("label").GetString());
            Assert.Equal(g.Baseline?.Id, j.GetProperty("baseline").GetString());
            Assert.Equal(g.Trials.Select(t => t.Id), j.GetProperty("trials").EnumerateArray().Select(t => t.GetProperty("id").GetString()));
            foreach (string f in report.Data.Figures)
            {
                var s = g.Stat(f);
                var js = j.GetProperty("figures").GetProperty(f);
                Assert.Equal(s.N, js.GetProperty("n").GetInt32());
                Assert.Equal(s.Mean, Num(js, "mean"));
                Assert.Equal(s.Sd, Num(js, "sd"));
                Assert.Equal(s.CiLow, Num(js, "ci95_low"));
                Assert.Equal(s.CiHigh, Num(js, "ci95_high"));
                Assert.Equal(s.Min, Num(js, "min"));
                Assert.Equal(s.Max, Num(js, "max"));
                Assert.Equal(g.Ratio(f), Num(js, "ratio"));
            }
            Assert.Equal(g.Config.Count, j.GetProperty("config").EnumerateObject().Count());
        }
    }

    private static double? Num(JsonElement e, string name) => e.GetProperty(name) is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : null;

    [Fact]
    public void Spread_AcrossSeeds_IsShownWithConfidenceIntervals()
    {
        // micro workloads draw no random numbers; give three runs different elapsed times
        var r = Sweeps.Run("micro/pt-clear.yaml", ("policy", "kvm-3.1"));
        var runs = new[] { 0.010, 0.012, 0.014 }.Select((v, i) => Sweeps.With(Sweeps.WithSeed(r, i + 1), ("time.elapsed_seconds", v))).ToList();
        var report = ReportBuilder.Build(runs, new ReportInfo());
        var table = report.Tables().Single(t => t.Kind == "before-after");
        Assert.Equal(["10.00 ms", "12.00 ms", "14.00 ms", "12.00 ms", "4.968 ms", "2.000 ms"], table.Rows.Take(6).Select(row => row.Cells[0].Text));
        var s = report.Data.Groups.Single().Stat("time.elapsed_seconds");
        Assert.Equal(0.012, s.Mean!.Value, 12);
        Assert.Equal(0.002, s.Sd!.Value, 12);
        Assert.Equal(4.30265272975 * 0.002 / Math.Sqrt(3), s.CiHalfWidth!.Value, 9);
    }

    [Fact]
    public void Report_DoesNotDependOnTheOrderOfResults_AndRendersTheSameTwice()
    {
        var shuffled = Sweeps.Small.Reverse().ToList();
        foreach (var format in Enum.GetValues<ReportFormat>())
        {
            string a = ReportWriter.Render(ReportBuilder.Build(Sweeps.Small, Info), format);
            string b = ReportWriter.Render(ReportBuilder.Build(shuffled, Info), format);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void Writer_WritesEachFormat_AndParsesFormatNames()
    {
        var report = SmallReport();
        string dir = RepoPaths.TempDir("writer");
        foreach (string name in ReportWriter.FormatNames)
        {
            var format = ReportWriter.ParseFormat(name);
            string path = Path.Combine(dir, "sub", "report" + ReportWriter.Extension(format));
            ReportWriter.Write(report, path, format);
            Assert.Equal(ReportWriter.Render(report, format), File.ReadAllText(path));
            Assert.Equal(format, ReportWriter.FormatOfPath(path));
        }
        Assert.Equal(ReportFormat.Markdown, ReportWriter.ParseFormat("Markdown"));
        var e = Assert.Throws<ArgumentException>(() => ReportWriter.ParseFormat("pdf"));
        Assert.Contains("valid: html, md, csv, json", e.Message);
    }

    [Fact]
    public void AnErrorTrial_IsShownToo()
    {
        var ok = Sweeps.Run("micro/pt-clear.yaml", ("policy", "kvm-3.1"), ("seed", "1"));
        var broken = Sweeps.WithSeed(ok, 2);
        broken.Root["outcome"] = "error";
        broken.Root["error"] = "unsupported instruction cpuid at 0x1000 (0f a2)";
        var report = ReportBuilder.Build([ok, broken], new ReportInfo());
        Assert.Equal(1, report.ErrorCount);
        string html = HtmlRenderer.Render(report);
        Assert.Contains("unsupported instruction cpuid at 0x1000 (0f a2)", html);
        Assert.Contains("✗ error", html);
        Assert.Contains("| error |", MarkdownRenderer.Render(report).Replace("**", "", StringComparison.Ordinal));
        Assert.Equal(1, report.Data.Groups.Single().Stat("time.elapsed_seconds").N);
    }

    [Fact]
    public void Html_EscapesWhatItShows()
    {
        var r = Sweeps.Run("micro/pt-clear.yaml", ("policy", "kvm-3.1"));
        var report = ReportBuilder.Build([r], new ReportInfo { Title = "<b>&\"title\"", SweepSpec = "name: x </pre><script>alert(1)</script>" });
        string html = HtmlRenderer.Render(report);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        var doc = new HtmlParser().ParseDocument(html);
        Assert.Equal("<b>&\"title\"", doc.QuerySelector("h1")!.TextContent);
        Assert.Equal("name: x </pre><script>alert(1)</script>", doc.GetElementById("sweep-spec")!.TextContent);
    }

    [Fact]
    public void InlineSvg_IdsArePrefixed_AndReferencesFollow()
    {
        const string svg = """<?xml version="1.0" encoding="utf-8" ?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="20"><clipPath id="cl_4"><rect/></clipPath><g clip-path="url(#cl_4)"><rect/></g></svg>""";
        string inline = SvgPlots.Inline(svg, "plot-x", "a title");
        Assert.DoesNotContain("<?xml", inline);
        Assert.Contains("id=\"plot-x-d1\"", inline);
        Assert.Contains("clip-path=\"url(#plot-x-d1)\"", inline);
        Assert.Contains("viewBox=\"0 0 10 20\"", inline);
        Assert.Contains(">a title</title>", inline);
    }
}
