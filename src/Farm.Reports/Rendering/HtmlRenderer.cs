using System.Net;
using System.Text;
using Farm.Reports.Aggregation;
using Farm.Reports.Model;

namespace Farm.Reports.Rendering;

/// <summary>
/// A self-contained HTML page: inline CSS, plots as inline SVG, no script, and a content
/// security policy that forbids any network access. Every table has an id and
/// <c>data-table</c>, every plot <c>data-plot</c>, and every number <c>data-value</c> with its
/// source (<c>data-group</c>, <c>data-figure</c>, <c>data-stat</c>), so the page can be checked
/// against the data it shows.
/// </summary>
public static class HtmlRenderer
{
    public static string Render(Report report)
    {
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        h.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n");
        h.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        h.Append("<meta name=\"generator\" content=\"Farm.Reports\">\n");
        h.Append($"<title>{E(report.Info.Title)}</title>\n<style>{Css}</style>\n</head>\n<body>\n");
        Header(h, report);
        Summary(h, report);
        Contents(h, report);
        Failures(h, report);
        foreach (var section in report.Sections) Section(h, section);
        Reproduce(h, report);
        h.Append($"<footer>Made by Farm.Reports. Plots drawn with ScottPlot {E(typeof(ScottPlot.Plot).Assembly.GetName().Version?.ToString(3) ?? "")}.</footer>\n");
        h.Append("</body>\n</html>\n");
        return h.ToString();
    }

    private static void Header(StringBuilder h, Report r)
    {
        h.Append($"<header id=\"report-header\">\n<h1>{E(r.Info.Title)}</h1>\n");
        if (r.Info.Note is { } note) h.Append($"<p class=\"note\">{E(note)}</p>\n");
        h.Append("<dl class=\"meta\">\n");
        if (r.Info.SweepId is { } id) Meta(h, "sweep", id);
        Meta(h, "model version", r.ModelVersions.Count == 0 ? "–" : string.Join(", ", r.ModelVersions));
        Meta(h, "workloads", string.Join(", ", r.Sections.Select(s => s.Workload)));
        Meta(h, "trials", $"{r.TrialCountText} in {r.Data.Groups.Count} groups");
        Meta(h, "baseline", r.Info.Baseline.Description);
        h.Append("</dl>\n");
        if (r.TrialCount == 0)
            h.Append("<p id=\"status\" class=\"status failed\" role=\"alert\">No trial results: nothing to report.</p>\n");
        else if (r.FailedCount == 0)
            h.Append($"<p id=\"status\" class=\"status ok\">All {r.TrialCount} trials completed.</p>\n");
        else
            h.Append($"<p id=\"status\" class=\"status failed\" role=\"alert\">✗ {r.FailedCount} of {r.TrialCount} trials did not complete " +
                     $"({r.HostBugCount} host-bug, {r.ErrorCount} error): they are marked ✗ in the tables, left out of the means, and listed under " +
                     "<a href=\"#failures\">Failed trials</a>.</p>\n");
        h.Append("</header>\n");
    }

    /// <summary>The summary matrix at the top: workloads × fixes, share of the 3.1→3.3 gain (with bands where a sensitivity ran).</summary>
    private static void Summary(StringBuilder h, Report r)
    {
        if (r.SummaryTable is null && !r.Sensitivity.Any) return;
        h.Append("<section id=\"summary\">\n<h2>Summary</h2>\n");
        if (r.Sensitivity.Any)
        {
            h.Append($"<p class=\"intro\">{E(r.SensitivityIntro)}</p>\n<ul class=\"sensitivity-lines\">\n");
            foreach (string line in r.SensitivityLines()) h.Append($"<li>{E(line)}</li>\n");
            h.Append("</ul>\n");
        }
        if (r.SummaryTable is { } table) Table(h, table);
        h.Append("</section>\n");
    }

    private static void Meta(StringBuilder h, string name, string value) => h.Append($"<div><dt>{E(name)}</dt><dd>{E(value)}</dd></div>\n");

    private static void Contents(StringBuilder h, Report r)
    {
        h.Append("<nav id=\"contents\"><h2>Contents</h2><ol>\n");
        if (r.SummaryTable is not null || r.Sensitivity.Any) h.Append("<li><a href=\"#summary\">Summary</a></li>\n");
        h.Append($"<li><a href=\"#failures\">Failed trials ({r.FailedCount})</a></li>\n");
        foreach (var s in r.Sections)
        {
            h.Append($"<li><a href=\"#workload-{s.Slug}\">{E(s.Workload)}</a><ul>");
            foreach (var t in s.Tables) h.Append($"<li><a href=\"#{t.Id}\">{E(t.Title)}</a></li>");
            foreach (var p in s.Plots) h.Append($"<li><a href=\"#{p.Id}\">{E(p.Title)}</a></li>");
            h.Append("</ul></li>\n");
        }
        h.Append("<li><a href=\"#reproduce\">Reproduce</a></li>\n</ol></nav>\n");
    }

    private static void Failures(StringBuilder h, Report r)
    {
        string cls = r.FailedCount == 0 ? "no-failures" : "has-failures";
        h.Append($"<section id=\"failures\" class=\"failures {cls}\" data-failed=\"{r.FailedCount}\">\n<h2>Failed trials</h2>\n");
        if (r.FailedCount == 0)
            h.Append("<p>None: every trial completed.</p>\n");
        else
        {
            h.Append($"<p>{r.FailedCount} trial(s) ended without completing. A host-bug is a <code>BUG_ON</code> the real host would hit; " +
                     "an error means the model could not go on. Each is marked ✗ where its run would appear.</p>\n");
            Table(h, r.FailureTable);
        }
        h.Append("</section>\n");
    }

    private static void Section(StringBuilder h, ReportSection s)
    {
        h.Append($"<section id=\"workload-{s.Slug}\" class=\"workload\" data-workload=\"{E(s.Workload)}\">\n<h2>{E(s.Workload)}</h2>\n");
        var g = s.Groups;
        h.Append($"<p class=\"intro\">{g.Groups.Count} group(s), {g.Trials} trial(s)");
        if (g.Axes.Count > 0) h.Append($"; swept: {E(string.Join(", ", g.Axes))}");
        h.Append(".</p>\n");
        foreach (string note in s.Notes) h.Append($"<p class=\"warning\">{E(note)}</p>\n");

        foreach (var t in s.Tables.Where(t => t.Kind is "before-after" or "ablation" or "sensitivity" or "tdp-floor")) Table(h, t);
        h.Append("<div class=\"plots\">\n");
        foreach (var p in s.Plots) Plot(h, p);
        h.Append("</div>\n");
        foreach (var t in s.Tables.Where(t => t.Kind == "groups")) Table(h, t);
        foreach (var t in s.Tables.Where(t => t.Kind == "figures"))
        {
            h.Append($"<details class=\"figures\"><summary>{E(t.Title)} ({t.Rows.Count(r => r.Kind != RowKind.Heading)} figures)</summary>\n");
            Table(h, t);
            h.Append("</details>\n");
        }
        h.Append("</section>\n");
    }

    private static void Plot(StringBuilder h, ReportPlot p)
    {
        h.Append($"<figure id=\"{p.Id}\" class=\"plot\" data-plot=\"{p.Kind}\">\n<figcaption><strong>{E(p.Title)}</strong> {E(p.Caption ?? "")}</figcaption>\n");
        if (!p.HasData)
            h.Append("<p class=\"plot-empty\">Nothing to draw: no group of this workload has a completed trial.</p>\n");
        else
        {
            try
            {
                h.Append(SvgPlots.Render(p)).Append('\n');
            }
            catch (Exception e) // a plot that cannot be drawn must not take the report down: say so and keep its data below
            {
                h.Append($"<p class=\"plot-error\" role=\"alert\">This plot could not be drawn ({E(e.GetType().Name)}: {E(e.Message)}); its data follows.</p>\n");
            }
        }
        h.Append("<details class=\"plot-data\"><summary>data</summary>\n");
        Table(h, PlotData.Table(p));
        h.Append("</details>\n</figure>\n");
    }

    private static void Reproduce(StringBuilder h, Report r)
    {
        h.Append("<section id=\"reproduce\">\n<h2>Reproduce</h2>\n<dl class=\"meta\">\n");
        if (r.Info.SweepId is { } id) Meta(h, "sweep", id);
        Meta(h, "model version", r.ModelVersions.Count == 0 ? "–" : string.Join(", ", r.ModelVersions));
        h.Append("</dl>\n");
        if (r.Info.SweepSpec is { } spec)
            h.Append($"<p>The sweep as submitted:</p>\n<pre id=\"sweep-spec\">{E(spec)}</pre>\n");
        else
            h.Append("<p id=\"sweep-spec\" class=\"warning\">No sweep specification was given with these results; the configurations below are complete.</p>\n");
        foreach (var s in r.Sections)
        {
            var common = Common(s.Groups.Groups);
            h.Append($"<details class=\"config\"><summary>Configuration of {E(s.Workload)}: {common.Count} key(s) common to every group; the others are in the group labels</summary>\n");
            h.Append("<table class=\"config\"><thead><tr><th scope=\"col\">key</th><th scope=\"col\">value</th></tr></thead><tbody>\n");
            foreach (var (k, v) in common) h.Append($"<tr><th scope=\"row\">{E(k)}</th><td>{E(v)}</td></tr>\n");
            h.Append("</tbody></table></details>\n");
        }
        h.Append("</section>\n");
    }

    /// <summary>Configuration keys with the same value in every group.</summary>
    internal static List<KeyValuePair<string, string>> Common(IReadOnlyList<TrialGroup> groups) =>
        groups.Count == 0 ? [] : groups[0].Config.Where(kv => groups.All(g => g.ConfigValue(kv.Key) == kv.Value)).ToList();

    internal static void Table(StringBuilder h, ReportTable t)
    {
        h.Append($"<div class=\"table-wrap\"><table id=\"{t.Id}\" class=\"{t.Kind}\" data-table=\"{t.Kind}\">\n");
        h.Append($"<caption><strong>{E(t.Title)}</strong>");
        if (t.Caption is { } c) h.Append($" <span>{E(c)}</span>");
        h.Append("</caption>\n<thead><tr>");
        h.Append($"<th scope=\"col\">{E(t.RowHeader)}</th>");
        foreach (var col in t.Columns)
        {
            string cls = col.Baseline ? " class=\"baseline\"" : col.IsText ? " class=\"text\"" : "";
            string group = col.GroupId is null ? "" : $" data-group=\"{col.GroupId}\"";
            string title = col.Title is null ? "" : $" title=\"{E(col.Title)}\"";
            h.Append($"<th scope=\"col\"{cls}{group}{title}>{Breakable(col.Header)}</th>");
        }
        h.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in t.Rows)
        {
            string title = row.Title is null ? "" : $" title=\"{E(row.Title)}\"";
            if (row.Kind == RowKind.Heading)
            {
                h.Append($"<tr class=\"heading\"><th scope=\"rowgroup\" colspan=\"{t.Columns.Count + 1}\"{title}>{E(row.Label)}</th></tr>\n");
                continue;
            }
            h.Append(row.Kind == RowKind.Summary ? "<tr class=\"summary\">" : "<tr>");
            string note = row.Note is null ? "" : $"<span class=\"detail\">{E(row.Note)}</span>";
            h.Append($"<th scope=\"row\"{title}{(row.Note is null ? "" : " class=\"noted\"")}>{E(row.Label)}{note}</th>");
            for (int i = 0; i < row.Cells.Count; i++)
                Cell(h, row.Cells[i], i < t.Columns.Count && t.Columns[i].IsText);
            h.Append("</tr>\n");
        }
        h.Append("</tbody></table></div>\n");
    }

    private static void Cell(StringBuilder h, TableCell c, bool text)
    {
        var cls = new List<string>();
        cls.Add(text ? "text" : "num");
        if (c.Mark == CellMark.Failed) cls.Add("failed");
        if (c.Mark == CellMark.Baseline) cls.Add("baseline");
        h.Append("<td");
        if (cls.Count > 0) h.Append($" class=\"{string.Join(' ', cls)}\"");
        Data(h, c);
        h.Append('>').Append(E(c.Text));
        if (c.Detail is { } d)
        {
            h.Append("<span class=\"detail\"");
            Data(h, d);
            h.Append($">{E(d.Text)}</span>");
        }
        h.Append("</td>");
    }

    private static void Data(StringBuilder h, TableCell c)
    {
        if (c.Value is { } v) h.Append($" data-value=\"{Format.Exact(v)}\"");
        if (c.Source is { } s)
        {
            h.Append($" data-group=\"{s.GroupId}\" data-stat=\"{s.Statistic.ToString().ToLowerInvariant()}\"");
            if (s.Figure is not null) h.Append($" data-figure=\"{E(s.Figure)}\"");
            if (s.TrialId is not null) h.Append($" data-trial=\"{E(s.TrialId)}\"");
            if (s.Against is not null) h.Append($" data-against=\"{s.Against}\"");
            if (s.Target is not null) h.Append($" data-target=\"{s.Target}\"");
            if (s.Scale != 1) h.Append($" data-scale=\"{Format.Exact(s.Scale)}\"");
        }
        if (c.Title is not null) h.Append($" title=\"{E(c.Title)}\"");
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);

    /// <summary>Encoded text with line-break opportunities after '_' and '=', and after '.' before a letter (long configuration keys in headers, not version numbers).</summary>
    private static string Breakable(string s)
    {
        var b = new StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            b.Append(E(s[i].ToString()));
            bool beforeLetter = i + 1 < s.Length && char.IsAsciiLetter(s[i + 1]);
            if (s[i] is '_' or '=' || (s[i] is '.' or ',' && beforeLetter)) b.Append("<wbr>");
        }
        return b.ToString();
    }

    private const string Css = """
        :root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --zebra: #f6f8fa; --bad: #b42318; --bad-bg: #fdecea; --base-bg: #eaf2fb; --ok: #1a7f37; --ok-bg: #e8f5ec; }
        * { box-sizing: border-box; }
        body { margin: 0 auto; max-width: 1280px; padding: 24px 32px 48px; color: var(--fg); font: 15px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
        h1 { font-size: 26px; margin: 0 0 8px; }
        h2 { font-size: 21px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
        code, pre { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 13px; }
        pre { background: var(--zebra); border: 1px solid var(--line); padding: 12px; overflow-x: auto; }
        a { color: #0969da; }
        .note, .intro { color: var(--muted); margin: 4px 0 10px; }
        dl.meta { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 8px 0 12px; }
        dl.meta dt { color: var(--muted); font-size: 13px; }
        dl.meta dd { margin: 0; font-weight: 600; }
        .status { padding: 10px 14px; border-radius: 6px; font-weight: 600; margin: 10px 0; }
        .status.ok { background: var(--ok-bg); color: var(--ok); border: 1px solid #a6d8b5; }
        .status.failed, .failures.has-failures { background: var(--bad-bg); color: var(--bad); border: 1px solid #f4b4ad; }
        .failures.has-failures { padding: 2px 16px 12px; border-radius: 6px; }
        .failures.has-failures h2 { border-color: #f4b4ad; }
        .warning { color: #8a4b00; background: #fff4e0; border: 1px solid #f3cf94; padding: 6px 10px; border-radius: 6px; }
        nav#contents { font-size: 14px; color: var(--muted); }
        nav#contents h2 { font-size: 16px; margin: 18px 0 4px; border: 0; }
        nav#contents ol { margin: 0; padding-left: 22px; }
        nav#contents ul { display: inline; padding: 0; margin: 0 0 0 8px; }
        nav#contents ul li { display: inline; }
        nav#contents ul li + li::before { content: " · "; }
        .table-wrap { overflow-x: auto; margin: 14px 0 22px; }
        table { border-collapse: collapse; font-size: 14px; }
        caption { text-align: left; padding: 0 0 6px; caption-side: top; }
        caption span { display: block; color: var(--muted); font-size: 13px; max-width: 1100px; }
        th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
        thead th { background: var(--zebra); border-bottom: 2px solid var(--line); text-align: right; font-weight: 600; min-width: 64px; max-width: 200px; overflow-wrap: break-word; }
        thead th:first-child, thead th.text { text-align: left; }
        tbody th { text-align: left; font-weight: normal; white-space: nowrap; }
        tbody tr:nth-child(even) { background: #fbfcfd; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        td.failed { color: var(--bad); background: var(--bad-bg); font-weight: 600; white-space: normal; min-width: 7em; }
        td.baseline, th.baseline { background: var(--base-bg); }
        tr.summary th, tr.summary td { font-weight: 700; border-top: 2px solid var(--line); }
        tr.heading th { background: #eef1f4; font-weight: 600; color: var(--muted); padding-top: 8px; }
        span.detail { display: block; color: var(--muted); font-size: 12px; font-weight: normal; }
        tbody th.noted { white-space: normal; min-width: 22em; max-width: 30em; }
        td.text { white-space: normal; max-width: 520px; }
        .plots { display: flex; flex-direction: column; gap: 18px; margin: 18px 0; }
        figure.plot { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; background: #fff; }
        figure.plot figcaption { margin-bottom: 8px; color: var(--muted); font-size: 13px; }
        figure.plot figcaption strong { color: var(--fg); font-size: 15px; margin-right: 6px; }
        figure.plot svg { display: block; width: 100%; max-width: 960px; height: auto; }
        .plot-error { color: var(--bad); background: var(--bad-bg); padding: 8px 12px; }
        .plot-empty { color: var(--muted); font-style: italic; }
        details > summary { cursor: pointer; color: var(--muted); font-size: 13px; margin: 6px 0; }
        details.figures > summary { font-size: 15px; color: var(--fg); font-weight: 600; }
        footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
        """;
}
