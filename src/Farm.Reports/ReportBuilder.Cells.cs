using System.Text;
using Farm.Reports.Aggregation;
using Farm.Reports.Model;
using Farm.Simulation.Results;

namespace Farm.Reports;

/// <summary>Table cells: each number with where it comes from (<see cref="CellSource"/>).</summary>
public static partial class ReportBuilder
{
    private static TableCell RunCell(TrialGroup g, long seed, TimeFormat time)
    {
        var t = g.Trials.FirstOrDefault(r => r.Seed == seed);
        if (t is null) return TableCell.Blank;
        if (t.Elapsed is not { } v) return new TableCell("✗ " + t.Outcome.Name(), Mark: CellMark.Failed, Title: t.Error);
        return new TableCell(time.Text(v), v, new CellSource(g.Id, Elapsed, Statistic.Value, t.Id), Title: t.Id);
    }

    private static TableCell MeanCell(TrialGroup g, string figure, Func<double, string> format) =>
        g.CompletedCount == 0
            ? new TableCell("✗ no completed trial", Mark: CellMark.Failed)
            : StatCell(g, figure, Statistic.Mean, format);

    private static TableCell StatCell(TrialGroup g, string figure, Statistic stat, Func<double, string> format)
    {
        var s = g.Stat(figure);
        double? v = stat switch
        {
            Statistic.N => s.N,
            Statistic.Mean => s.Mean,
            Statistic.Sd => s.Sd,
            Statistic.CiHalfWidth => s.CiHalfWidth,
            Statistic.Min => s.Min,
            Statistic.Max => s.Max,
            _ => throw new ArgumentOutOfRangeException(nameof(stat), stat, "not a per-group statistic"),
        };
        return v is { } value
            ? new TableCell(format(value), value, new CellSource(g.Id, figure, stat), g.IsBaseline && stat == Statistic.Mean ? CellMark.Baseline : CellMark.None)
            : new TableCell("–", Title: s.N < 2 ? "needs two completed trials" : null);
    }

    private static TableCell ChangeCell(TrialGroup g, TrialGroup? against, string figure)
    {
        if (against is null) return new TableCell("–", Title: "no baseline");
        if (ReferenceEquals(g, against)) return new TableCell("baseline", Mark: CellMark.Baseline);
        return g.RatioTo(against, figure) is { } r
            ? new TableCell(Format.Change(r), r - 1, new CellSource(g.Id, figure, Statistic.Change, Against: against.Id), Title: $"against {against.Label}")
            : new TableCell("–");
    }

    private static TableCell RatioCell(TrialGroup g, TrialGroup? against, string figure)
    {
        if (against is null || g.RatioTo(against, figure) is not { } r) return new TableCell("–");
        return new TableCell(Format.Ratio(r), r, new CellSource(g.Id, figure, Statistic.Ratio, Against: against.Id),
            ReferenceEquals(g, against) ? CellMark.Baseline : CellMark.None);
    }

    private static TableCell GainShareCell(TrialGroup g, TrialGroup? before, TrialGroup? after)
    {
        double? m = g.Mean(Elapsed), b = before?.Mean(Elapsed), a = after?.Mean(Elapsed);
        if (m is null || b is null || a is null || b == a) return new TableCell("–");
        double share = (b.Value - m.Value) / (b.Value - a.Value);
        return new TableCell(Format.Percent(share), share, new CellSource(g.Id, Elapsed, Statistic.GainShare, Against: before!.Id, Target: after!.Id));
    }

    private static TableCell FigureCell(TrialGroup g, string figure)
    {
        var s = g.Stat(figure);
        if (s.Mean is not { } mean) return new TableCell("✗", Mark: CellMark.Failed, Title: "no completed trial");
        string text = Format.Count(mean) + (s.CiHalfWidth is { } h && h != 0 ? " ± " + Format.Count(h) : "");
        TableCell? detail = g.Baseline is null || g.IsBaseline ? null : RatioCell(g, g.Baseline, figure) is { Value: not null } r ? r : null;
        return new TableCell(text, mean, new CellSource(g.Id, figure, Statistic.Mean),
            g.IsBaseline ? CellMark.Baseline : CellMark.None, $"n={s.N}" + (s.Sd is { } sd ? $", sd={Format.Count(sd)}, min={Format.Count(s.Min!.Value)}, max={Format.Count(s.Max!.Value)}" : ""), detail);
    }

    private static TableCell TrialsCell(TrialGroup g)
    {
        var text = new StringBuilder($"{g.CompletedCount}/{g.TrialCount}");
        if (g.HostBugs > 0) text.Append($" ✗ {g.HostBugs} host-bug");
        if (g.Errors > 0) text.Append($" ✗ {g.Errors} error");
        return new TableCell(text.ToString(), g.CompletedCount, new CellSource(g.Id, null, Statistic.Completed), g.FailedCount > 0 ? CellMark.Failed : CellMark.None);
    }

    private static TableCell FailedCountCell(TrialGroup g)
    {
        if (g.FailedCount == 0) return new TableCell("0", 0, new CellSource(g.Id, null, Statistic.Failed));
        string text = string.Join(", ", new[] { (g.HostBugs, "host-bug"), (g.Errors, "error") }.Where(x => x.Item1 > 0).Select(x => $"✗ {x.Item1} {x.Item2}"));
        return new TableCell(text, g.FailedCount, new CellSource(g.Id, null, Statistic.Failed), CellMark.Failed, string.Join("; ", g.ErrorMessages));
    }
}
