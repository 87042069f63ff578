using System.Globalization;
using System.Text.Json.Nodes;
using Farm.Reports.Model;
using Farm.Simulation.Results;

namespace Farm.Reports.Aggregation;

/// <summary>
/// Folds trial results into groups one at a time, keeping per group only running statistics and
/// a bounded list of trial rows (<see cref="ReportLimits"/>), so that a report of a sweep of any
/// size holds a small state per group, not its results. <see cref="Finish"/> gives the
/// <see cref="Aggregate"/>. The result is the same whatever order the trials come in.
/// </summary>
public sealed class ReportAccumulator
{
    private readonly Dictionary<string, GroupState> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _variantOrder = new(StringComparer.Ordinal);
    private readonly List<string> _figures = [], _failedOnlyFigures = [];
    private readonly HashSet<string> _figureSeen = new(StringComparer.Ordinal);
    private readonly HashSet<ulong> _trialsSeen = [];
    private readonly Dictionary<string, FailureState> _failures = new(StringComparer.Ordinal);
    private readonly List<SensitivityState> _sensitivity = [];
    private readonly Dictionary<string, int> _workloadTrials = new(StringComparer.Ordinal);
    private int _completed, _hostBug, _error, _positions, _failuresNotListed;

    /// <summary>Positions given (a trial held by two positions counts twice here, once in <see cref="Aggregate.Trials"/>).</summary>
    public int Positions => _positions;

    /// <summary>
    /// Adds one position's result. With a <paramref name="place"/> (a sweep's labels) the trial joins
    /// the group of its workload, variant and point; without, the group of its configuration.
    /// A trial given again (two positions of one sweep hold it) is counted once in the totals and
    /// once in each group it is given under; a place with a sensitivity role adds a sensitivity run.
    /// </summary>
    public void Add(TrialResult result, TrialPlace? place = null)
    {
        var h = Header.Of(result);
        if (place?.Sensitivity is { } role)
        {
            _sensitivity.Add(new SensitivityState(GroupKey(h, place with { Sensitivity = null }), role, Row(h, result), SensitivityValue(h, role)));
            return;
        }
        _positions++;
        bool first = _trialsSeen.Add(IdKey(h.Id));
        if (first)
        {
            _workloadTrials[h.Workload] = _workloadTrials.GetValueOrDefault(h.Workload) + 1;
            switch (result.Outcome)
            {
                case Outcome.Completed: _completed++; break;
                case Outcome.HostBug: _hostBug++; break;
                default: _error++; break;
            }
        }

        string key = GroupKey(h, place);
        if (!_groups.TryGetValue(key, out var g))
        {
            int order = int.MaxValue;
            if (place?.Variant is { } v && !_variantOrder.TryGetValue(v, out order)) _variantOrder[v] = order = _variantOrder.Count;
            _groups[key] = g = new GroupState(h, place, order);
        }
        var row = Row(h, result);
        g.Add(row);
        if (row.Completed)
        {
            foreach (var (path, value) in result.Figures())
            {
                if (_figureSeen.Add(path)) _figures.Add(path);
                g.Figure(path).Add(value);
            }
        }
        else
        {
            foreach (var (path, _) in result.Figures())
                if (_figureSeen.Add(path)) _failedOnlyFigures.Add(path);
            if (_failures.TryGetValue(h.Id, out var f)) { if (!f.Groups.Contains(g)) f.Groups.Add(g); }
            else if (_failures.Count < ReportLimits.FailuresListed) _failures[h.Id] = new FailureState(row, [g]);
            else if (first) _failuresNotListed++;
        }
    }

    /// <summary>A sensitivity trial of a report built without places, tied to the group of its <paramref name="centre"/> trial.</summary>
    public void AddSensitivity(TrialResult result, SensitivityRole role, TrialResult? centre)
    {
        var h = Header.Of(result);
        string key = centre is null ? "\0unattached" : GroupKey(Header.Of(centre), null);
        _sensitivity.Add(new SensitivityState(key, role, Row(h, result), SensitivityValue(h, role)));
    }

    /// <summary>Groups the trials given, orders them, gives them ids and baselines.</summary>
    public Aggregate Finish(BaselineSelector? baseline = null)
    {
        baseline ??= BaselineSelector.Default;
        var figures = _figures.Concat(_failedOnlyFigures.Where(f => !_figures.Contains(f))).ToList();
        var byState = new Dictionary<GroupState, TrialGroup>();
        var workloads = new List<WorkloadGroups>();
        foreach (var byWorkload in _groups.Values.GroupBy(s => s.Header.Workload).OrderBy(w => w.Key, StringComparer.Ordinal))
        {
            var groups = new List<TrialGroup>();
            foreach (var s in byWorkload)
            {
                var g = s.ToGroup(figures);
                byState[s] = g;
                groups.Add(g);
            }
            var labelled = byWorkload.Where(s => s.Place is not null).ToList();
            var axes = labelled.Count > 0
                ? labelled.SelectMany(s => s.Place!.Point.Select(p => p.Key)).Distinct().ToList()
                : Aggregate.Axes(groups);
            foreach (var s in byWorkload)
                byState[s].Point = s.Place is { } place
                    ? axes.Select(a => KeyValuePair.Create(a, place.Point.FirstOrDefault(p => p.Key == a).Value ?? "")).ToList()
                    : axes.Select(a => KeyValuePair.Create(a, Aggregate.AxisValue(byState[s], a))).ToList();
            groups = Aggregate.Order(groups);
            workloads.Add(new WorkloadGroups(byWorkload.Key, groups, axes) { Trials = _workloadTrials.GetValueOrDefault(byWorkload.Key) });
        }
        var all = workloads.SelectMany(w => w.Groups).ToList();
        var variantNames = all.Select(g => g.VariantName).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var w in workloads) Aggregate.AssignBaselines(w.Groups, baseline, variantNames);
        for (int i = 0; i < all.Count; i++) all[i].Id = $"g{i + 1}";
        var index = all.Select((g, i) => (g, i)).ToDictionary(x => x.g, x => x.i);

        var failures = _failures.Values
            .Select(f => new FailedTrial(f.Row, f.Groups.Select(s => byState[s]).OrderBy(g => index[g]).ToList()))
            .OrderBy(f => index[f.Group]).ThenBy(f => f.Seed).ThenBy(f => f.Trial.Id, StringComparer.Ordinal)
            .ToList();
        var sensitivity = new List<SensitivityRun>();
        int unattached = 0;
        foreach (var s in _sensitivity)
        {
            if (_groups.TryGetValue(s.GroupKey, out var state)) sensitivity.Add(new SensitivityRun(byState[state], s.Role, s.Row, s.KeyValue));
            else unattached++;
        }
        return new Aggregate(figures, workloads, new TrialCounts(_completed, _hostBug, _error), _positions, failures, _failuresNotListed,
            sensitivity, unattached);
    }

    private static TrialRow Row(Header h, TrialResult r) =>
        new(h.Id, h.Seed, r.Outcome, r.Error, r.Outcome == Outcome.Completed && r.Root["time"]?["elapsed_seconds"] is JsonValue v ? v.GetValue<double>() : null);

    private static string? SensitivityValue(Header h, SensitivityRole role) =>
        role.Key is { } k ? h.Config.FirstOrDefault(kv => kv.Key == k).Value : null;

    /// <summary>A 64-bit key of a trial id (ids are 16 hex digits; anything else is hashed), to count each trial once in little memory.</summary>
    private static ulong IdKey(string id) =>
        id.Length == 16 && ulong.TryParse(id, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong v)
            ? v : Fnv1a(id);

    private static ulong Fnv1a(string s)
    {
        ulong hash = 14695981039346656037;
        foreach (char c in s) hash = (hash ^ c) * 1099511628211;
        return hash;
    }

    private static string GroupKey(Header h, TrialPlace? place) =>
        place is null
            ? "c\n" + h.Workload + "\n" + h.ModelVersion + "\n" + string.Join("\n", h.Config.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"))
            : "p\n" + h.Workload + "\n" + place.Variant + "\n" + string.Join("\n", place.Point.Select(p => $"{p.Key}={p.Value}"));

    private sealed record FailureState(TrialRow Row, List<GroupState> Groups);

    private sealed record SensitivityState(string GroupKey, SensitivityRole Role, TrialRow Row, string? KeyValue);

    /// <summary>The RESULTS.md <c>trial</c> section's fields a report reads.</summary>
    internal sealed record Header(string Id, string Workload, long Seed, string ModelVersion, string Policy, IReadOnlyList<KeyValuePair<string, string>> Config)
    {
        public static Header Of(TrialResult r)
        {
            var t = r.Header;
            var config = t.Config.Where(kv => !Aggregate.IgnoredKeys.Contains(kv.Key)).ToList();
            string policy = t.ConfigValue("policy") ?? t.Policy;
            return new Header(r.Id, t.Workload, t.Seed, t.ModelVersion, policy, config);
        }
    }

    private sealed class GroupState(Header header, TrialPlace? place, int variantOrder)
    {
        private readonly Dictionary<string, RunningStats> _stats = new(StringComparer.Ordinal);
        private readonly List<TrialRow> _rows = [];
        private readonly List<string> _errors = [];
        private int _completed, _hostBug, _error;

        public Header Header { get; } = header;
        public TrialPlace? Place { get; } = place;

        public RunningStats Figure(string path)
        {
            if (!_stats.TryGetValue(path, out var s)) _stats[path] = s = new RunningStats();
            return s;
        }

        public void Add(TrialRow row)
        {
            switch (row.Outcome)
            {
                case Outcome.Completed: _completed++; break;
                case Outcome.HostBug: _hostBug++; break;
                default: _error++; break;
            }
            if (!row.Completed && row.Error is { } e && _errors.Count < ReportLimits.ErrorsPerGroup && !_errors.Contains(e)) _errors.Add(e);
            // Keep the lowest seeds, in (seed, id) order.
            int at = _rows.FindIndex(r => r.Seed > row.Seed || (r.Seed == row.Seed && string.CompareOrdinal(r.Id, row.Id) > 0));
            if (at < 0) at = _rows.Count;
            if (at >= ReportLimits.TrialRowsPerGroup) return;
            _rows.Insert(at, row);
            if (_rows.Count > ReportLimits.TrialRowsPerGroup) _rows.RemoveAt(_rows.Count - 1);
        }

        public TrialGroup ToGroup(IReadOnlyList<string> figures)
        {
            var preset = Aggregate.PresetOf(Header.Policy);
            var switches = Header.Config.Where(kv => preset.TryGetValue(kv.Key, out var v) && v != kv.Value).ToList();
            var stats = figures.ToDictionary(f => f, f => _stats.TryGetValue(f, out var s) ? s.ToStats() : FigureStats.Empty, StringComparer.Ordinal);
            return new TrialGroup(Header.Workload, Header.ModelVersion, Header.Policy, Header.Config, switches, Place?.Variant,
                new TrialCounts(_completed, _hostBug, _error), _rows.ToList(), stats, _errors.ToList()) { VariantOrder = variantOrder };
        }
    }
}

/// <summary>A sensitivity trial of a group: its role, and what the report keeps of it (the value of the role's key, for low/high).</summary>
public sealed record SensitivityRun(TrialGroup Group, SensitivityRole Role, TrialRow Trial, string? KeyValue);
