using Farm.Cluster.Protocol;
using Farm.Cluster.Sweeps;

namespace Farm.Cluster.Store;

public sealed partial class ResultStore
{
    /// <summary>
    /// Stores a sweep and queues what it still needs. Idempotent: resubmitting a sweep reuses
    /// every trial that is done, queued or running (a finished sweep queues nothing) and queues
    /// again the trials that failed or were cancelled; a cancelled sweep is live again.
    /// </summary>
    public SubmitResult SubmitSweep(SweepSpec spec) => Write(() =>
    {
        bool resubmitted = Scalar("SELECT 1 FROM sweeps WHERE id = $id", ("$id", spec.Id.Value)) is not null;
        if (resubmitted) Execute("UPDATE sweeps SET cancelled = 0 WHERE id = $id", ("$id", spec.Id.Value));
        else
            Execute("""
                INSERT INTO sweeps (id, seq, name, spec, canonical, baseline, positions, created)
                VALUES ($id, (SELECT coalesce(max(seq), 0) + 1 FROM sweeps), $name, $spec, $canonical, $baseline, $positions, $now)
                """,
                ("$id", spec.Id.Value), ("$name", spec.Name), ("$spec", spec.Text), ("$canonical", spec.Canonical),
                ("$baseline", spec.Baseline), ("$positions", spec.Trials.Count), ("$now", Now()));

        foreach (var w in spec.Workloads)
        {
            _workloads.Add(w.Hash, w.File);
            Execute("INSERT OR IGNORE INTO workloads (hash, text) VALUES ($hash, $text)", ("$hash", w.Hash), ("$text", w.Text));
        }

        long order = (long)Scalar("SELECT coalesce(max(queue_order), 0) FROM trials")!;
        int toRun = 0, reused = 0;
        var seen = new HashSet<TrialId>();
        foreach (var trial in spec.Trials.Where(t => seen.Add(t.Id)))
        {
            switch (Scalar("SELECT status FROM trials WHERE id = $id", ("$id", trial.Id.Value)) as string)
            {
                case null:
                    InsertTrial(trial, ++order);
                    toRun++;
                    break;
                case TrialStatus.Failed or TrialStatus.Cancelled:
                    Execute("UPDATE trials SET status = 'queued', worker = NULL, error = NULL, updated = $now WHERE id = $id",
                        ("$id", trial.Id.Value), ("$now", Now()));
                    toRun++;
                    break;
                default:
                    reused++;
                    break;
            }
        }
        foreach (var trial in spec.Trials)
            Execute("INSERT OR IGNORE INTO sweep_trials (sweep_id, position, trial_id, labels) VALUES ($sweep, $pos, $trial, $labels)",
                ("$sweep", spec.Id.Value), ("$pos", trial.Position), ("$trial", trial.Id.Value), ("$labels", StoreJson.Settings(trial.Labels)));
        return new SubmitResult(spec.Id, spec.Name, seen.Count, toRun, reused, resubmitted);
    });

    private void InsertTrial(SweepTrial trial, long queueOrder) =>
        Execute("""
            INSERT INTO trials (id, config_id, workload, workload_hash, workload_source, overrides, config, seed, status, queue_order, updated)
            VALUES ($id, $config_id, $workload, $hash, $source, $overrides, $config, $seed, 'queued', $order, $now)
            """,
            ("$id", trial.Id.Value), ("$config_id", trial.ConfigId), ("$workload", trial.Workload.Name), ("$hash", trial.Workload.Hash),
            ("$source", trial.Workload.Path), ("$overrides", StoreJson.Settings(trial.Overrides)),
            ("$config", StoreJson.Config(trial.Spec.Config.Values)), ("$seed", trial.Seed), ("$order", queueOrder), ("$now", Now()));

    /// <summary>
    /// Cancels a sweep: its queued and running trials become cancelled unless another live sweep
    /// also holds them. Done and failed trials keep their status. A result that arrives later for
    /// a cancelled trial is still stored. Returns the number of trials cancelled.
    /// </summary>
    public int Cancel(SweepId sweep) => Write(() =>
    {
        if (Execute("UPDATE sweeps SET cancelled = 1 WHERE id = $id", ("$id", sweep.Value)) == 0) throw new UnknownSweepException(sweep);
        return Execute("""
            UPDATE trials SET status = 'cancelled', updated = $now
            WHERE status IN ('queued', 'running')
              AND id IN (SELECT trial_id FROM sweep_trials WHERE sweep_id = $id)
              AND NOT EXISTS (SELECT 1 FROM sweep_trials st JOIN sweeps s ON s.id = st.sweep_id
                              WHERE st.trial_id = trials.id AND s.cancelled = 0)
            """, ("$id", sweep.Value), ("$now", Now()));
    });
}
