using System.Text.Json;
using Farm.Cluster.Protocol;

namespace Farm.Cluster.Store;

public sealed partial class ResultStore
{
    /// <summary>Up to <paramref name="count"/> queued trials, oldest first, as tickets; their status is unchanged.</summary>
    public IReadOnlyList<TrialTicket> NextQueued(int count) => Read(() => QueuedTickets(count, failUnbuildable: false));

    /// <summary>Takes up to <paramref name="count"/> queued trials for <paramref name="worker"/>: <see cref="NextQueued"/>
    /// and <see cref="MarkRunning"/> in one transaction (what a coordinator answers <see cref="RequestWork"/> with).
    /// A queued trial whose ticket cannot be built any more (its stored workload text no longer parses,
    /// e.g. under a newer build) is marked failed with the reason instead, and the next one is taken.</summary>
    public IReadOnlyList<TrialTicket> Dispatch(int count, WorkerId worker) => Write(() => TakeQueued(count, worker));

    /// <summary>Queued → running on <paramref name="worker"/>, one more attempt. False if the trial is not queued.</summary>
    public bool MarkRunning(TrialId trial, WorkerId worker) => Write(() => SetRunning(trial, worker));

    /// <summary>
    /// Stores a trial's result JSON and marks it done. Idempotent: a trial that is done keeps its
    /// first result and this returns false. The JSON must be a trial result whose <c>trial.id</c> is
    /// this trial's configuration id; otherwise <see cref="StoreException"/> and nothing changes.
    /// A result for a queued, running, failed or cancelled trial is accepted: it is deterministic.
    /// </summary>
    public bool StoreResult(TrialId trial, string resultJson) => Write(() => SetDone(trial, resultJson));

    /// <summary>
    /// <see cref="StoreResult"/> for each of <paramref name="results"/> (one, or a batch: <see cref="TrialsFinished"/>) and
    /// <see cref="Dispatch"/> of up to <paramref name="count"/> trials for <paramref name="worker"/> (the request the results
    /// carried; 0: none) in one transaction: one commit for the results and the worker's next tickets (protocols 2 and 3).
    /// Also <see cref="FinishedSweeps"/> of the sweeps of the results stored (<paramref name="sweepsOf"/>: each result's sweeps,
    /// for the sweep-done log line; null: nothing read), read in the same transaction: not a write and then a read; a copy of
    /// a result stored before finishes no sweep again. All or nothing: one refused result (<see cref="StoreException"/>,
    /// <see cref="UnknownTrialException"/>) stores none and takes no trial. Returns which results were stored (false: done
    /// already, the first result kept), in order.
    /// </summary>
    public (IReadOnlyList<bool> Stored, IReadOnlyList<TrialTicket> Tickets, IReadOnlyList<SweepStatus> Finished) StoreResultsAndDispatch(
        IReadOnlyList<(TrialId Trial, string ResultJson)> results, int count, WorkerId worker, IReadOnlyList<IReadOnlyList<SweepId>>? sweepsOf) => Write(() =>
    {
        var stored = results.Select(r => SetDone(r.Trial, r.ResultJson)).ToList();
        var tickets = count > 0 ? TakeQueued(count, worker) : [];
        var finishedOf = sweepsOf is null ? [] : stored.SelectMany((s, i) => s ? sweepsOf[i] : []).Distinct().ToList();
        return ((IReadOnlyList<bool>)stored, (IReadOnlyList<TrialTicket>)tickets, finishedOf.Count > 0 ? Finished(finishedOf) : (IReadOnlyList<SweepStatus>)[]);
    });

    /// <summary>Tickets a worker gives back unstarted (<see cref="TicketsReturned"/>): each still running on that worker is queued
    /// again, its attempt taken back (it never ran). Returns how many.</summary>
    public int ReturnTickets(WorkerId worker, IEnumerable<TrialId> trials) => Write(() => trials.Distinct().Sum(t =>
        Execute("UPDATE trials SET status = 'queued', worker = NULL, attempts = MAX(attempts - 1, 0), updated = $now WHERE id = $id AND status = 'running' AND worker = $worker",
            ("$id", t.Value), ("$worker", worker.Value), ("$now", Now()))));

    private List<TrialTicket> TakeQueued(int count, WorkerId worker)
    {
        var tickets = QueuedTickets(count, failUnbuildable: true);
        foreach (var t in tickets) SetRunning(t.Id, worker);
        return tickets;
    }

    private bool SetDone(TrialId trial, string resultJson)
    {
        var (status, configId) = StatusOf(trial);
        if (status == TrialStatus.Done) return false;
        string? resultId = ResultTrialId(resultJson)
            ?? throw new StoreException($"trial {trial}: the result is not a trial result JSON object with trial.id");
        if (resultId != configId)
            throw new StoreException($"trial {trial}: the result is for configuration {resultId}, not {configId}");
        Execute("UPDATE trials SET status = 'done', result = $result, error = NULL, updated = $now WHERE id = $id",
            ("$id", trial.Value), ("$result", resultJson), ("$now", Now()));
        return true;
    }

    /// <summary>Marks a trial failed with <paramref name="error"/>; false (and no change) if it is done.
    /// A failed trial runs again when its sweep is resubmitted or it is <see cref="Requeue"/>d.</summary>
    public bool MarkFailed(TrialId trial, string error) => Write(() =>
    {
        if (StatusOf(trial).Status == TrialStatus.Done) return false;
        Execute("UPDATE trials SET status = 'failed', error = $error, updated = $now WHERE id = $id",
            ("$id", trial.Value), ("$error", error), ("$now", Now()));
        return true;
    });

    /// <summary>The running trials and their workers: what a previous coordinator left running, read on start.</summary>
    public IReadOnlyList<(TrialId Trial, WorkerId? Worker)> RunningTrials() => Read(() =>
    {
        using var cmd = Command("SELECT id, worker FROM trials WHERE status = 'running' ORDER BY queue_order");
        using var r = cmd.ExecuteReader();
        var running = new List<(TrialId, WorkerId?)>();
        while (r.Read()) running.Add((new TrialId(r.GetString(0)), r.IsDBNull(1) ? null : new WorkerId(r.GetString(1))));
        return running;
    });

    /// <summary>Every running trial back to queued.</summary>
    public int RequeueRunning() => Write(() =>
        Execute("UPDATE trials SET status = 'queued', worker = NULL, updated = $now WHERE status = 'running'", ("$now", Now())));

    /// <summary>The running trials of a worker that left, crashed or missed its deadline, back to queued.</summary>
    public int RequeueWorker(WorkerId worker) => Write(() =>
        Execute("UPDATE trials SET status = 'queued', worker = NULL, updated = $now WHERE status = 'running' AND worker = $worker",
            ("$worker", worker.Value), ("$now", Now())));

    /// <summary>The given trials back to queued if running or failed (done and cancelled ones are left alone). Returns how many.</summary>
    public int Requeue(IEnumerable<TrialId> trials) => Write(() => trials.Distinct().Sum(t =>
        Execute("UPDATE trials SET status = 'queued', worker = NULL, updated = $now WHERE id = $id AND status IN ('running', 'failed')",
            ("$id", t.Value), ("$now", Now()))));

    private List<TrialTicket> QueuedTickets(int count, bool failUnbuildable)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var tickets = new List<TrialTicket>();
        var seen = new List<string>(); // taken or passed over: not read again
        for (bool more = true; more && tickets.Count < count;)
        {
            var rows = QueuedRows(count - tickets.Count, seen);
            more = false; // another round only to replace trials whose ticket could not be built
            foreach (var (id, name, hash, source, config) in rows)
            {
                seen.Add(id);
                try
                {
                    var file = _workloads.Get(hash, source, () => (string)Scalar("SELECT text FROM workloads WHERE hash = $hash", ("$hash", hash))!);
                    tickets.Add(TrialTicket.Of(new TrialId(id), name, file.Kind, hash, StoreJson.ConfigOf(config), file.Routines));
                }
                catch (Simulation.Config.ConfigException e)
                {
                    more = true;
                    // Dispatch fails it with the reason; NextQueued (read-only) leaves it queued and passes over it.
                    if (failUnbuildable)
                        Execute("UPDATE trials SET status = 'failed', error = $error, updated = $now WHERE id = $id",
                            ("$id", id), ("$error", $"the coordinator cannot build its ticket: {e.Message}"), ("$now", Now()));
                }
            }
        }
        return tickets;
    }

    private List<(string Id, string Name, string Hash, string Source, string Config)> QueuedRows(int count, List<string> seen)
    {
        var cmd = Command($"""
            SELECT id, workload, workload_hash, workload_source, config
            FROM trials WHERE status = 'queued' {(seen.Count > 0 ? "AND id NOT IN (SELECT value FROM json_each($seen))" : "")}
            ORDER BY queue_order LIMIT $n
            """, seen.Count > 0 ? [("$n", count), ("$seen", JsonSerializer.Serialize(seen))] : [("$n", count)]);
        using var r = cmd.ExecuteReader();
        var rows = new List<(string, string, string, string, string)>();
        while (r.Read()) rows.Add((r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4)));
        return rows;
    }

    private bool SetRunning(TrialId trial, WorkerId worker)
    {
        // One statement for the usual case (dispatch takes queued trials); the status is read only to say why not.
        if (Execute("UPDATE trials SET status = 'running', worker = $worker, attempts = attempts + 1, updated = $now WHERE id = $id AND status = 'queued'",
                ("$id", trial.Value), ("$worker", worker.Value), ("$now", Now())) == 1)
            return true;
        _ = StatusOf(trial); // an unknown trial throws
        return false;
    }

    private (string Status, string ConfigId) StatusOf(TrialId trial)
    {
        var cmd = Command("SELECT status, config_id FROM trials WHERE id = $id", ("$id", trial.Value));
        using var r = cmd.ExecuteReader();
        return r.Read() ? (r.GetString(0), r.GetString(1)) : throw new UnknownTrialException(trial);
    }

    /// <summary>
    /// The <c>trial.id</c> of a result JSON, or null when the text is not shaped like a trial result
    /// or is not valid JSON. Read with a reader, not into a document: the whole text is still checked
    /// (a result is stored only if it is JSON), without building a tree for one field of it.
    /// </summary>
    internal static string? ResultTrialId(string json)
    {
        try
        {
            var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = 256 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            string? id = null;
            bool inTrial = false;
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName) continue;
                if (reader.CurrentDepth == 1)
                {
                    inTrial = reader.ValueTextEquals("trial"u8);
                    if (inTrial && reader.Read() && reader.TokenType != JsonTokenType.StartObject) inTrial = false;
                }
                else if (inTrial && reader.CurrentDepth == 2 && id is null && reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String) id = reader.GetString();
                }
            }
            return id;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
