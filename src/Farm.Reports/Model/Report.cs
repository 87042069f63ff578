using Farm.Reports.Aggregation;
using Farm.Simulation.Results;

namespace Farm.Reports.Model;

/// <summary>What the caller knows about the sweep that the results do not say.</summary>
public sealed record ReportInfo
{
    public string Title { get; init; } = "Farm sweep report";

    /// <summary>The sweep's id in the result store, if it has one.</summary>
    public string? SweepId { get; init; }

    /// <summary>The sweep specification as submitted (YAML text), printed verbatim so a reader can run it again.</summary>
    public string? SweepSpec { get; init; }

    /// <summary>The model version the sweep ran with; when null, the versions found in the results are shown.</summary>
    public string? ModelVersion { get; init; }

    /// <summary>Which groups the others are compared against (default: kvm-3.1 without switches).</summary>
    public BaselineSelector Baseline { get; init; } = BaselineSelector.Default;

    /// <summary>The trials of the sweep's <c>sensitivity:</c> block (not counted among the groups' trials); empty when it has none.</summary>
    public IReadOnlyList<SensitivityTrial> Sensitivity { get; init; } = [];

    /// <summary>Free text shown under the title (e.g. when and where the report was made). The library adds no timestamp of its own, so a report is a function of its inputs.</summary>
    public string? Note { get; init; }
}

/// <summary>A failed (host-bug or error) trial, listed once, and the groups it belongs to (two when two variants resolve to it), in report order.</summary>
public sealed record FailedTrial(TrialRow Trial, IReadOnlyList<TrialGroup> Groups)
{
    /// <summary>The first of <see cref="Groups"/>.</summary>
    public TrialGroup Group => Groups[0];
    public Outcome Outcome => Trial.Outcome;
    public string Error => Trial.Error ?? "";
    public long Seed => Trial.Seed;

    /// <summary>The groups' labels: "kvm-3.1; fix4-flood".</summary>
    public string GroupLabels => string.Join("; ", Groups.Select(g => g.Label));
}

/// <summary>The tables and plots of one workload.</summary>
public sealed record ReportSection(string Workload, string Slug, WorkloadGroups Groups, string ElapsedUnit, IReadOnlyList<ReportTable> Tables, IReadOnlyList<ReportPlot> Plots, IReadOnlyList<string> Notes);

/// <summary>A built report: the aggregated data plus the tables and plots that every renderer shows.</summary>
public sealed class Report
{
    internal Report(ReportInfo info, Aggregate data, IReadOnlyList<ReportSection> sections, ReportTable failureTable)
    {
        Info = info;
        Data = data;
        Sections = sections;
        FailureTable = failureTable;
        Failures = data.Failures;
        ModelVersions = info.ModelVersion is { } v ? [v] : data.Groups.Select(g => g.ModelVersion).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    public ReportInfo Info { get; }
    public Aggregate Data { get; }
    public IReadOnlyList<ReportSection> Sections { get; }
    public IReadOnlyList<FailedTrial> Failures { get; }

    /// <summary>The failed trials as a table (no rows when every trial completed).</summary>
    public ReportTable FailureTable { get; }
    public IReadOnlyList<string> ModelVersions { get; }

    /// <summary>Distinct trials (a trial held by two positions of the sweep counts once).</summary>
    public int TrialCount => Data.Trials.Total;

    /// <summary>Positions of the sweep with a result: one per trial and place it was given under (at least <see cref="TrialCount"/>).</summary>
    public int PositionCount => Data.Positions;
    public int CompletedCount => Data.Trials.Completed;
    public int HostBugCount => Data.Trials.HostBug;
    public int ErrorCount => Data.Trials.Error;

    /// <summary>Failed trials: every one counted, at most <see cref="ReportLimits.FailuresListed"/> in <see cref="Failures"/>.</summary>
    public int FailedCount => Data.Trials.Failed;

    /// <summary>"105 trials" or, when positions share trials, "105 trials (108 positions: two variants resolve to the same trial)".</summary>
    public string TrialCountText => PositionCount == TrialCount ? $"{TrialCount} trial(s)"
        : $"{TrialCount} trial(s) at {PositionCount} positions ({PositionCount - TrialCount} position(s) hold a trial another variant also resolves to; it ran once)";

    /// <summary>The summary matrix (workloads × fixes: share of the 3.1→3.3 gain); null when no workload has both presets and a fix alone.</summary>
    public ReportTable? SummaryTable { get; init; }

    /// <summary>The rows of <see cref="SummaryTable"/> as data, with their sensitivity bands.</summary>
    public IReadOnlyList<GainShare> GainShares { get; init; } = [];

    /// <summary>The sweep's sensitivity trials attached to their groups (<see cref="SensitivityAnalysis.Any"/> is false without them).</summary>
    public SensitivityAnalysis Sensitivity { get; init; } = null!;

    /// <summary>Every sensitivity comparison of the report, in section order.</summary>
    public IEnumerable<SensitivityChange> SensitivityChanges() =>
        Data.Groups.Where(g => g.Baseline is { } b && !ReferenceEquals(g, b)).Select(g => Sensitivity.Change(g, g.Baseline!)).OfType<SensitivityChange>();

    /// <summary>The summary's sensitivity introduction, plain text (each renderer escapes it).</summary>
    public string SensitivityIntro =>
        $"Sensitivity to cost estimates: {Sensitivity.TrialCount} trial(s), {Sensitivity.Keys.Count} key(s) one at a time, {Sensitivity.Draws} Monte Carlo draw(s).";

    /// <summary>The summary's sentence per sensitivity comparison, plain text (each renderer escapes it).</summary>
    public IEnumerable<string> SensitivityLines() => SensitivityChanges().Select(c =>
        $"{c.Group.Workload}: {c.Group.Label} against {c.Against.Variant}: {ReportBuilder.BandText(c.Change.AtDefaults, c.Change.Band, x => Format.Change(x + 1))}" +
        $"{(ReportBuilder.TopKeysText(c.Change, x => Format.Change(x + 1)) is { } t ? "; " + t : "")}.");

    public IEnumerable<ReportTable> Tables() => Sections.SelectMany(s => s.Tables).Prepend(FailureTable).Concat(SummaryTable is null ? [] : [SummaryTable]);
    public IEnumerable<ReportPlot> Plots() => Sections.SelectMany(s => s.Plots);

    /// <summary>One line for a status bar or a log.</summary>
    public string Summary => FailedCount == 0
        ? $"{TrialCount} trial(s) in {Data.Groups.Count} group(s), all completed"
        : $"{TrialCount} trial(s) in {Data.Groups.Count} group(s): {CompletedCount} completed, {HostBugCount} host-bug, {ErrorCount} error";
}
