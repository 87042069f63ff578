using Farm.Cluster.Protocol;
using Microsoft.Data.Sqlite;

namespace Farm.Cluster.Store;

public sealed partial class ResultStore
{
    // Counts of distinct trials per status; a sweep lists each of its trials once however many positions hold it.
    private const string StatusSql = """
        SELECT s.id, s.name, s.seq, s.cancelled, count(t.id),
               total(t.status = 'queued'), total(t.status = 'running'), total(t.status = 'done'),
               total(t.status = 'failed'), total(t.status = 'cancelled')
        FROM sweeps s
        LEFT JOIN (SELECT DISTINCT sweep_id, trial_id FROM sweep_trials) st ON st.sweep_id = s.id
        LEFT JOIN trials t ON t.id = st.trial_id
        """;

    /// <summary>Every sweep's status, in submission order.</summary>
    public IReadOnlyList<SweepStatus> ListSweeps() => Read(() => Statuses($"{StatusSql} GROUP BY s.id ORDER BY s.seq"));

    /// <summary>One sweep's status; <see cref="UnknownSweepException"/> if there is no such sweep.</summary>
    public SweepStatus Status(SweepId sweep) => Read(() =>
        Statuses($"{StatusSql} WHERE s.id = $id GROUP BY s.id", ("$id", sweep.Value)).SingleOrDefault()
        ?? throw new UnknownSweepException(sweep));

    /// <summary>Every position of a sweep in order, with its trial's status and result (or error).</summary>
    public IReadOnlyList<SweepResultItem> Results(SweepId sweep) => Read(() =>
    {
        RequireSweep(sweep);
        var cmd = Command("""
            SELECT st.position, st.trial_id, st.labels, t.status, t.result, t.error
            FROM sweep_trials st JOIN trials t ON t.id = st.trial_id
            WHERE st.sweep_id = $id ORDER BY st.position
            """, ("$id", sweep.Value));
        using var r = cmd.ExecuteReader();
        var items = new List<SweepResultItem>();
        while (r.Read())
            items.Add(new SweepResultItem(r.GetInt32(0), new TrialId(r.GetString(1)), StoreJson.Settings(r.GetString(2)), r.GetString(3),
                r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5)));
        return items;
    });

    /// <summary>
    /// The positions of a sweep from <paramref name="fromPosition"/> on, in order: at most
    /// <paramref name="maxItems"/>, and no more once their text passes <paramref name="maxChars"/>
    /// (at least one), so that a page's memory is bounded whatever the sweep's size.
    /// </summary>
    public IReadOnlyList<SweepResultItem> ResultsPage(SweepId sweep, int fromPosition, int maxItems, long maxChars) => Read(() =>
    {
        RequireSweep(sweep);
        var cmd = Command("""
            SELECT st.position, st.trial_id, st.labels, t.status, t.result, t.error
            FROM sweep_trials st JOIN trials t ON t.id = st.trial_id
            WHERE st.sweep_id = $id AND st.position >= $from ORDER BY st.position LIMIT $n
            """, ("$id", sweep.Value), ("$from", fromPosition), ("$n", Math.Max(1, maxItems)));
        using var r = cmd.ExecuteReader();
        var items = new List<SweepResultItem>();
        long chars = 0;
        while (r.Read())
        {
            var item = new SweepResultItem(r.GetInt32(0), new TrialId(r.GetString(1)), StoreJson.Settings(r.GetString(2)), r.GetString(3),
                r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5));
            chars += (item.ResultJson?.Length ?? 0) + (item.Error?.Length ?? 0) + 64 * item.Labels.Count + 64;
            if (items.Count > 0 && chars > maxChars) break;
            items.Add(item);
        }
        return items;
    });

    /// <summary>A stored sweep (spec text, baseline, …), or null.</summary>
    public SweepRecord? FindSweep(SweepId sweep) => Read(() =>
    {
        var cmd = Command("SELECT id, name, seq, spec, canonical, baseline, positions, cancelled, created FROM sweeps WHERE id = $id",
            ("$id", sweep.Value));
        using var r = cmd.ExecuteReader();
        return r.Read()
            ? new SweepRecord(new SweepId(r.GetString(0)), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetString(4), r.GetString(5),
                r.GetInt32(6), r.GetInt64(7) != 0, Time(r.GetString(8)))
            : null;
    });

    /// <summary>A stored trial, or null.</summary>
    public TrialRecord? FindTrial(TrialId trial) => Read(() =>
    {
        var cmd = Command("SELECT id, config_id, workload, seed, status, attempts, worker, result, error, config, updated FROM trials WHERE id = $id",
            ("$id", trial.Value));
        using var r = cmd.ExecuteReader();
        return r.Read()
            ? new TrialRecord(new TrialId(r.GetString(0)), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetString(4), r.GetInt32(5),
                r.IsDBNull(6) ? null : new WorkerId(r.GetString(6)), r.IsDBNull(7) ? null : r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8),
                r.GetString(9), Time(r.GetString(10)))
            : null;
    });

    private void RequireSweep(SweepId sweep)
    {
        if (Scalar("SELECT 1 FROM sweeps WHERE id = $id", ("$id", sweep.Value)) is null) throw new UnknownSweepException(sweep);
    }

    private List<SweepStatus> Statuses(string sql, params (string, object?)[] parameters)
    {
        var cmd = Command(sql, parameters);
        using SqliteDataReader r = cmd.ExecuteReader();
        var list = new List<SweepStatus>();
        while (r.Read())
            list.Add(new SweepStatus(new SweepId(r.GetString(0)), r.GetString(1), r.GetInt64(2), r.GetInt64(3) != 0, r.GetInt32(4),
                (int)r.GetDouble(5), (int)r.GetDouble(6), (int)r.GetDouble(7), (int)r.GetDouble(8), (int)r.GetDouble(9)));
        return list;
    }
}
