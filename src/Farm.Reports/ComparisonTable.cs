using System.Globalization;
using Farm.Simulation.Results;

namespace Farm.Reports;

/// <summary>A cell of a <see cref="ComparisonTable"/>; <see cref="Failed"/> marks a run that did not complete.</summary>
public sealed record ComparisonCell(string Text, bool Failed = false);

/// <summary>A row of a <see cref="ComparisonTable"/>; <see cref="Summary"/> marks the mean row.</summary>
public sealed record ComparisonRow(string Label, IReadOnlyList<ComparisonCell> Cells, bool Summary = false);

/// <summary>
/// <c>farm run</c>'s before/after table in the style of a kernel cover letter: elapsed time per
/// run and the mean per policy (with its change against the first), then the figures that explain
/// the difference (<see cref="FigureCatalogue.Explaining"/>, as the sweep reports show them),
/// means over the completed runs. A console renders it (the CLI, with colour).
/// </summary>
public sealed record ComparisonTable(string Title, IReadOnlyList<string> Policies, IReadOnlyList<ComparisonRow> Rows, IReadOnlyList<string> Failures)
{
    public static ComparisonTable Of(IReadOnlyList<TrialResult> results)
    {
        if (results.Count == 0) throw new ArgumentException("no results to compare", nameof(results));
        var byPolicy = results.GroupBy(r => r.Header.Policy).ToList();
        var first = results[0].Header;
        string title = $"{first.Workload}, {byPolicy[0].Count()} run(s) per policy, engine {first.Engine}";

        var rows = new List<ComparisonRow>();
        int runs = byPolicy.Max(g => g.Count());
        for (int i = 0; i < runs; i++)
            rows.Add(new ComparisonRow($"run {i + 1}", byPolicy.Select(g => g.ElementAtOrDefault(i) switch
            {
                null => new ComparisonCell(""),
                { Outcome: Outcome.Completed } r => new ComparisonCell(Seconds(r.Double(FigureCatalogue.Elapsed.Path))),
                var r => new ComparisonCell(r.Outcome.Name(), Failed: true),
            }).ToList()));
        double baseline = Mean(byPolicy[0], FigureCatalogue.Elapsed);
        rows.Add(new ComparisonRow("mean", byPolicy.Select(g =>
        {
            double m = Mean(g, FigureCatalogue.Elapsed);
            string change = ReferenceEquals(g, byPolicy[0]) || baseline == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" ({(m - baseline) / baseline:+0.0%;-0.0%})");
            return new ComparisonCell(Seconds(m) + change);
        }).ToList(), Summary: true));
        foreach (var (label, figure) in FigureCatalogue.Explaining)
            rows.Add(new ComparisonRow(label, byPolicy.Select(g => new ComparisonCell(Mean(g, figure).ToString("N0", CultureInfo.InvariantCulture))).ToList()));
        var failures = results.Where(r => r.Outcome != Outcome.Completed)
            .Select(r => $"{r.Id} ({r.Header.Policy}, seed {r.Header.Seed}): {r.Outcome.Name()}: {r.Error}").ToList();
        return new ComparisonTable(title, byPolicy.Select(g => g.Key).ToList(), rows, failures);
    }

    private static double Mean(IEnumerable<TrialResult> rs, Figure figure)
    {
        var completed = rs.Where(r => r.Outcome == Outcome.Completed).ToList();
        return completed.Count == 0 ? 0 : completed.Average(r => r.Double(figure.Path));
    }

    private static string Seconds(double s) => s.ToString(s < 0.01 ? "0.000000" : "0.0000", CultureInfo.InvariantCulture) + " s";
}
