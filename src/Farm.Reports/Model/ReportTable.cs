namespace Farm.Reports.Model;

/// <summary>Which aggregate a table cell shows (see <see cref="CellSource"/>).</summary>
public enum Statistic
{
    /// <summary>One trial's figure (<see cref="CellSource.TrialId"/>).</summary>
    Value,
    N,
    Mean,
    Sd,
    CiHalfWidth,
    Min,
    Max,
    /// <summary>Mean over the mean of <see cref="CellSource.Against"/>.</summary>
    Ratio,
    /// <summary>Ratio minus one, shown as a percentage.</summary>
    Change,
    /// <summary>(mean(Against) - mean) / (mean(Against) - mean(Target)): the share of the Against→Target difference this group recovers.</summary>
    GainShare,
    Completed,
    /// <summary>Sensitivity: the change against <see cref="CellSource.Against"/> at the sweep's costs, over the sensitivity's seeds.</summary>
    SensitivityDefaults,
    /// <summary>Sensitivity: the low end of the band of the change over the Monte Carlo draws.</summary>
    BandLow,
    /// <summary>Sensitivity: the high end of that band.</summary>
    BandHigh,
    HostBugs,
    Errors,
    /// <summary>Host-bug and error trials together.</summary>
    Failed,
}

/// <summary>
/// Where a number in a table comes from: a group, a figure path and a statistic (and the trial,
/// or the groups compared against). Every numeric cell carries one, so that tests and readers
/// can recompute it from the trial results.
/// </summary>
public sealed record CellSource(string GroupId, string? Figure, Statistic Statistic, string? TrialId = null, string? Against = null, string? Target = null)
{
    /// <summary>The cell's value is the statistic times this (e.g. 1e3 for milliseconds in plot data).</summary>
    public double Scale { get; init; } = 1;
}

public enum CellMark
{
    None,
    /// <summary>A failed (host-bug or error) trial, or a group without any completed trial.</summary>
    Failed,
    /// <summary>The baseline group's own cell.</summary>
    Baseline,
}

/// <summary>A table cell: its text, the number behind it and where that number comes from.
/// <see cref="Detail"/> is a second, smaller figure shown with it (e.g. a ratio under a mean).</summary>
public sealed record TableCell(string Text, double? Value = null, CellSource? Source = null, CellMark Mark = CellMark.None, string? Title = null, TableCell? Detail = null)
{
    public static readonly TableCell Blank = new("");
}

public enum RowKind
{
    Value,
    /// <summary>A summary row (a mean), shown in bold.</summary>
    Summary,
    /// <summary>A subheading across the table; its cells are empty.</summary>
    Heading,
}

/// <summary>A row: its label, its cells, and an optional <see cref="Note"/> shown under the label (what the row is).</summary>
public sealed record TableRow(string Label, IReadOnlyList<TableCell> Cells, RowKind Kind = RowKind.Value, string? Title = null, string? Note = null);

/// <summary>A column: its header, the group it shows when it shows one, and whether it holds text rather than numbers.</summary>
public sealed record TableColumn(string Header, string? GroupId = null, bool Baseline = false, string? Title = null, bool IsText = false);

/// <summary>
/// A table of the report. <see cref="Kind"/> is one of before-after, ablation, groups, figures, failures;
/// <see cref="Id"/> is unique in the report (HTML element id).
/// </summary>
public sealed record ReportTable(string Id, string Kind, string Title, string? Caption, string RowHeader, IReadOnlyList<TableColumn> Columns, IReadOnlyList<TableRow> Rows)
{
    public IEnumerable<TableCell> Cells() => Rows.SelectMany(r => r.Cells).SelectMany(c => c.Detail is null ? [c] : new[] { c, c.Detail });
}
