using System.Text;
using Farm.Reports.Model;

namespace Farm.Reports.Rendering;

/// <summary>
/// The report as GitHub-flavoured Markdown: the same sections and tables as the HTML page, with
/// each plot given as its data table (Markdown has no inline drawing). Failed cells read "✗ ...".
/// </summary>
public static class MarkdownRenderer
{
    public static string Render(Report report)
    {
        var m = new StringBuilder();
        m.Append($"# {Inline(report.Info.Title)}\n\n");
        if (report.Info.Note is { } note) m.Append($"{Inline(note)}\n\n");
        if (report.Info.SweepId is { } id) m.Append($"- Sweep: `{id}`\n");
        m.Append($"- Model version: {(report.ModelVersions.Count == 0 ? "–" : string.Join(", ", report.ModelVersions.Select(v => $"`{v}`")))}\n");
        m.Append($"- Workloads: {string.Join(", ", report.Sections.Select(s => Inline(s.Workload)))}\n");
        m.Append($"- Trials: {report.TrialCountText} in {report.Data.Groups.Count} groups\n");
        m.Append($"- Baseline: {Inline(report.Info.Baseline.Description)}\n\n");
        if (report.TrialCount == 0)
            m.Append("> **No trial results: nothing to report.**\n\n");
        else if (report.FailedCount == 0)
            m.Append($"> All {report.TrialCount} trials completed.\n\n");
        else
            m.Append($"> **✗ {report.FailedCount} of {report.TrialCount} trials did not complete** ({report.HostBugCount} host-bug, {report.ErrorCount} error): " +
                     "marked ✗ in the tables, left out of the means, listed under [Failed trials](#failed-trials).\n\n");

        if (report.SummaryTable is not null || report.Sensitivity.Any)
        {
            m.Append("## Summary\n\n");
            if (report.Sensitivity.Any)
            {
                m.Append($"{Inline(report.SensitivityIntro)}\n\n");
                foreach (string line in report.SensitivityLines()) m.Append($"- {Inline(line)}\n");
                m.Append('\n');
            }
            if (report.SummaryTable is { } summary) Table(m, summary);
        }

        m.Append("## Failed trials\n\n");
        if (report.FailedCount == 0) m.Append("None: every trial completed.\n\n");
        else Table(m, report.FailureTable, title: false);

        foreach (var s in report.Sections)
        {
            m.Append($"## {Inline(s.Workload)}\n\n");
            var g = s.Groups;
            m.Append($"{g.Groups.Count} group(s), {g.Trials} trial(s)");
            if (g.Axes.Count > 0) m.Append($"; swept: {string.Join(", ", g.Axes.Select(a => $"`{a}`"))}");
            m.Append(".\n\n");
            foreach (string n in s.Notes) m.Append($"> {Inline(n)}\n\n");
            foreach (var t in s.Tables.Where(t => t.Kind is "before-after" or "ablation" or "sensitivity" or "tdp-floor")) Table(m, t);
            foreach (var p in s.Plots)
            {
                m.Append($"### Plot: {Inline(p.Title)}\n\n{Inline(p.Caption ?? "")} (The HTML report draws it; its data:)\n\n");
                Table(m, PlotData.Table(p), title: false, caption: false);
            }
            foreach (var t in s.Tables.Where(t => t.Kind is "groups" or "figures")) Table(m, t);
        }

        m.Append("## Reproduce\n\n");
        m.Append($"Model version: {(report.ModelVersions.Count == 0 ? "–" : string.Join(", ", report.ModelVersions.Select(v => $"`{v}`")))}\n\n");
        if (report.Info.SweepSpec is { } spec)
        {
            string fence = new('`', Math.Max(3, LongestRun(spec, '`') + 1));
            m.Append($"The sweep as submitted:\n\n{fence}yaml\n{spec.TrimEnd('\n')}\n{fence}\n\n");
        }
        else m.Append("No sweep specification was given with these results.\n\n");
        foreach (var s in report.Sections)
        {
            var common = HtmlRenderer.Common(s.Groups.Groups);
            m.Append($"Configuration common to every group of {Inline(s.Workload)} (the rest is in the group labels):\n\n");
            m.Append("| key | value |\n|---|---|\n");
            foreach (var (k, v) in common) m.Append($"| `{k}` | {Cell(v)} |\n");
            m.Append('\n');
        }
        return m.ToString();
    }

    private static void Table(StringBuilder m, ReportTable t, bool title = true, bool caption = true)
    {
        if (title) m.Append($"### {Inline(t.Title)}\n\n");
        if (t.Caption is { } c && caption) m.Append($"*{Inline(c)}*\n\n");
        m.Append('|').Append(Cell(t.RowHeader)).Append(" |");
        foreach (var col in t.Columns) m.Append(' ').Append(Cell(col.Header)).Append(" |");
        m.Append("\n|---|");
        foreach (var col in t.Columns) m.Append(col.IsText ? "---|" : "---:|");
        m.Append('\n');
        foreach (var row in t.Rows)
        {
            bool bold = row.Kind is RowKind.Summary or RowKind.Heading;
            m.Append("| ").Append(Strong(Cell(row.Label), bold && row.Label.Length > 0));
            if (row.Note is { } note) m.Append("<br>").Append(Cell(note)); // GFM tables take inline HTML: the note goes under the label
            m.Append(" |");
            foreach (var cell in row.Cells)
            {
                string text = Cell(cell.Text) + (cell.Detail is { } d ? " (" + Cell(d.Text) + ")" : "");
                m.Append(' ').Append(Strong(text, (bold || cell.Mark == CellMark.Failed) && text.Length > 0)).Append(" |");
            }
            m.Append('\n');
        }
        m.Append('\n');
    }

    private static string Strong(string s, bool on) => on ? $"**{s}**" : s;

    /// <summary>Table cell text: pipes escaped, line breaks flattened, Markdown emphasis and HTML characters escaped.</summary>
    internal static string Cell(string s) => Inline(s).Replace("|", "\\|", StringComparison.Ordinal);

    private static string Inline(string s)
    {
        var b = new StringBuilder(s.Length);
        foreach (char c in s.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\n', ' '))
        {
            if (c is '*' or '`' or '<' or '>' or '[' or ']' or '\\') b.Append('\\'); // GFM does not emphasise underscores inside words
            b.Append(c);
        }
        return b.ToString();
    }

    private static int LongestRun(string s, char c)
    {
        int best = 0, run = 0;
        foreach (char x in s)
        {
            run = x == c ? run + 1 : 0;
            best = Math.Max(best, run);
        }
        return best;
    }
}
