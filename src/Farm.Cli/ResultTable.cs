using Farm.Simulation.Results;
using Spectre.Console;

namespace Farm.Cli;

/// <summary>The readable form of one trial result: every figure, grouped by section.</summary>
public static class ResultTable
{
    public static void Write(TrialResult result)
    {
        var t = result.Root["trial"]!;
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape((string)t["workload"]!)}[/]  policy [bold]{t["policy"]}[/]  seed {t["seed"]}  engine {t["engine"]}  trial {t["id"]}");
        AnsiConsole.MarkupLine($"outcome: {(result.Outcome == Outcome.Completed ? "[green]completed[/]" : $"[red]{result.Outcome.Name()}[/]: {Markup.Escape(result.Error ?? "")}")}");
        var table = new Table().AddColumn("section").AddColumn("figure").AddColumn(new TableColumn("value").RightAligned());
        string? last = null;
        foreach (var (path, value) in result.Figures())
        {
            int dot = path.IndexOf('.');
            string section = path[..dot];
            table.AddRow(section == last ? "" : section, path[(dot + 1)..], value % 1 == 0 ? ((long)value).ToString("N0") : value.ToString("G6"));
            last = section;
        }
        AnsiConsole.Write(table);
    }
}
