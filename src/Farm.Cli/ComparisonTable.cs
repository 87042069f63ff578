using System.Globalization;
using Farm.Simulation.Results;
using Spectre.Console;

namespace Farm.Cli;

/// <summary>
/// A before/after table in the style of a kernel cover letter: elapsed time per run and the
/// mean per policy, then the figures that explain the difference (means over the seeds).
/// </summary>
public static class ComparisonTable
{
    /// <summary>The figures that explain a difference: the same list the sweep reports use.</summary>
    private static IReadOnlyList<(string Label, string Figure)> Explaining => Farm.Reports.ReportBuilder.Explaining;

    public static void Write(IReadOnlyList<TrialResult> results)
    {
        var byPolicy = results.GroupBy(r => (string)r.Root["trial"]!["policy"]!).ToList();
        var first = results[0].Root["trial"]!;
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape((string)first["workload"]!)}[/], {byPolicy[0].Count()} run(s) per policy, engine {first["engine"]}");
        var table = new Table().Border(TableBorder.Simple).AddColumn("");
        foreach (var g in byPolicy) table.AddColumn(new TableColumn(g.Key).RightAligned());

        int runs = byPolicy.Max(g => g.Count());
        for (int i = 0; i < runs; i++)
        {
            var row = new List<string> { $"run {i + 1}" };
            foreach (var g in byPolicy)
            {
                var r = g.ElementAtOrDefault(i);
                row.Add(r is null ? "" : r.Outcome == "completed" ? Seconds(r.Double("time.elapsed_seconds")) : $"[red]{r.Outcome}[/]");
            }
            table.AddRow(row.ToArray());
        }
        double baseline = Mean(byPolicy[0], "time.elapsed_seconds");
        var meanRow = new List<string> { "[bold]mean[/]" };
        foreach (var g in byPolicy)
        {
            double m = Mean(g, "time.elapsed_seconds");
            string change = ReferenceEquals(g, byPolicy[0]) || baseline == 0 ? "" : $" ({(m - baseline) / baseline:+0.0%;-0.0%})";
            meanRow.Add($"[bold]{Seconds(m)}[/]{change}");
        }
        table.AddRow(meanRow.ToArray());
        table.AddEmptyRow();
        foreach (var (label, path) in Explaining)
            table.AddRow(new[] { label }.Concat(byPolicy.Select(g => Mean(g, path).ToString("N0", CultureInfo.InvariantCulture))).ToArray());
        AnsiConsole.Write(table);
        foreach (var r in results.Where(r => r.Outcome != "completed"))
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(r.Id)} ({r.Root["trial"]!["policy"]}, seed {r.Root["trial"]!["seed"]}): {r.Outcome}[/]: {Markup.Escape(r.Error ?? "")}");
    }

    private static double Mean(IEnumerable<TrialResult> rs, string path)
    {
        var completed = rs.Where(r => r.Outcome == "completed").ToList();
        return completed.Count == 0 ? 0 : completed.Average(r => r.Double(path));
    }

    private static string Seconds(double s) => s.ToString(s < 0.01 ? "0.000000" : "0.0000", CultureInfo.InvariantCulture) + " s";
}
