using Farm.Reports;
using Spectre.Console;

namespace Farm.Cli;

/// <summary>Writes a <see cref="ComparisonTable"/> (built in Farm.Reports) to the console: failed runs in red, the mean in bold.</summary>
public static class ComparisonConsole
{
    public static void Write(ComparisonTable t)
    {
        int split = t.Title.IndexOf(',');
        AnsiConsole.MarkupLine(split < 0 ? $"[bold]{Markup.Escape(t.Title)}[/]" : $"[bold]{Markup.Escape(t.Title[..split])}[/]{Markup.Escape(t.Title[split..])}");
        var table = new Table().Border(TableBorder.Simple).AddColumn("");
        foreach (string p in t.Policies) table.AddColumn(new TableColumn(Markup.Escape(p)).RightAligned());
        foreach (var row in t.Rows)
        {
            if (row.Label == FirstExplaining) table.AddEmptyRow();
            string label = row.Summary ? $"[bold]{Markup.Escape(row.Label)}[/]" : Markup.Escape(row.Label);
            table.AddRow(row.Cells.Select(c => c.Failed ? $"[red]{Markup.Escape(c.Text)}[/]" : row.Summary ? $"[bold]{Markup.Escape(c.Text)}[/]" : Markup.Escape(c.Text)).Prepend(label).ToArray());
        }
        AnsiConsole.Write(table);
        foreach (string f in t.Failures) AnsiConsole.MarkupLine($"[red]{Markup.Escape(f)}[/]");
    }

    private static readonly string FirstExplaining = Farm.Simulation.Results.FigureCatalogue.Explaining[0].Label;
}
