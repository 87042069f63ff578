using Farm.Cluster.Protocol;

namespace Farm.Cluster.Store;

public sealed partial class ResultStore
{
    /// <summary>The sweeps that hold a trial, in submission order (a trial shared by sweeps is stored once): the log's sweep field.</summary>
    public IReadOnlyList<SweepId> SweepsOf(TrialId trial) => Read(() => SweepIdsOf(trial));

    /// <summary>The status of each sweep that holds the trial and has nothing queued or running any more.</summary>
    public IReadOnlyList<SweepStatus> FinishedSweepsOf(TrialId trial) => Read(() => Finished(SweepIdsOf(trial)));

    /// <summary>The status of each of <paramref name="sweeps"/> (a trial's, from <see cref="SweepsOf"/>) that has nothing queued or running any more.</summary>
    public IReadOnlyList<SweepStatus> FinishedSweeps(IReadOnlyList<SweepId> sweeps) => Read(() => Finished(sweeps));

    private List<SweepStatus> Finished(IReadOnlyList<SweepId> sweeps)
    {
        var finished = new List<SweepStatus>();
        foreach (var sweep in sweeps)
        {
            // From the queue's index: the queued and running trials, not the sweep's positions (a result is stored per trial).
            bool open = Scalar("""
                SELECT 1 FROM trials t
                WHERE t.status IN ('queued', 'running')
                  AND EXISTS (SELECT 1 FROM sweep_trials st WHERE st.trial_id = t.id AND st.sweep_id = $id)
                LIMIT 1
                """, ("$id", sweep.Value)) is not null;
            if (!open) finished.AddRange(Statuses($"{StatusSql} WHERE s.id = $id GROUP BY s.id", ("$id", sweep.Value)));
        }
        return finished;
    }

    private List<SweepId> SweepIdsOf(TrialId trial)
    {
        var cmd = Command("""
            SELECT s.id FROM sweeps s
            WHERE s.id IN (SELECT sweep_id FROM sweep_trials WHERE trial_id = $id) ORDER BY s.seq
            """, ("$id", trial.Value));
        using var r = cmd.ExecuteReader();
        var ids = new List<SweepId>();
        while (r.Read()) ids.Add(new SweepId(r.GetString(0)));
        return ids;
    }
}
