using Akka.Actor;
using Akka.Event;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Farm.Cluster.Sweeps;
using Farm.Cluster.Serialization;
using Farm.Simulation.Config;

namespace Farm.Cluster.Coordinator;

/// <summary>
/// The farm's coordinator (a cluster singleton): expands sweeps into the store, hands trials to
/// workers that ask for them, re-queues the trials of workers that leave, crash or miss their
/// deadline, and stores results idempotently by trial id. All state is in the store, so a
/// restarted coordinator resumes where the last one stopped.
/// A request for work that finds the queue empty is held (one per worker, the latest) and
/// answered as soon as trials are queued, so that a submitted sweep starts on every idle worker
/// at once rather than on each worker's next poll.
/// </summary>
public sealed class CoordinatorActor : ReceiveActor, IWithTimers
{
    private sealed class CheckDeadlines
    {
        public static readonly CheckDeadlines Instance = new();
    }

    private sealed record InFlight(WorkerId Worker, IActorRef Ref, DateTime Deadline);

    private readonly ResultStore _store;
    private readonly CoordinatorOptions _options;
    private readonly Dictionary<TrialId, InFlight> _inFlight = [];
    private readonly Dictionary<IActorRef, WorkerId> _watched = [];
    /// <summary>Idle workers' requests that found the queue empty, oldest first; one per worker.</summary>
    private readonly List<(IActorRef Worker, RequestWork Request)> _waiting = [];

    public ITimerScheduler Timers { get; set; } = null!;

    public CoordinatorActor(CoordinatorOptions options)
    {
        _options = options;
        _store = new ResultStore(options.DatabasePath);
        int requeued = _store.RequeueRunning();
        if (requeued > 0) Context.GetLogger().Warning("coordinator: {0} trial(s) left running by a previous coordinator were queued again", requeued);

        Receive<SubmitSweep>(Submit);
        Receive<RequestWork>(Dispatch);
        Receive<TrialFinished>(Finished);
        Receive<TrialFailed>(Failed);
        Receive<GetStatus>(s => Sender.Tell(new StatusReply(s.Sweep switch
        {
            null => _store.ListSweeps(),
            { } id when _store.FindSweep(id) is null => [],
            { } id => [_store.Status(id)],
        })));
        Receive<CancelSweep>(c =>
        {
            if (_store.FindSweep(c.Sweep) is null) { Sender.Tell(new UnknownSweep(c.Sweep)); return; }
            Sender.Tell(new SweepCancelled(c.Sweep, _store.Cancel(c.Sweep)));
        });
        Receive<GetResults>(g =>
        {
            if (_store.FindSweep(g.Sweep) is null) { Sender.Tell(new UnknownSweep(g.Sweep)); return; }
            foreach (var chunk in MessageChunker.Results(g.Sweep, _store.Results(g.Sweep))) Sender.Tell(chunk);
        });
        Receive<GetSweep>(g => Sender.Tell(_store.FindSweep(g.Sweep) is { } s
            ? new SweepInfo(s.Id, s.Name, s.SpecText, s.Baseline)
            : new UnknownSweep(g.Sweep)));
        Receive<Terminated>(t => WorkerGone(t.ActorRef));
        Receive<CheckDeadlines>(_ => ExpireDeadlines());
    }

    protected override void PreStart() =>
        Timers.StartPeriodicTimer("deadlines", CheckDeadlines.Instance, _options.DeadlineCheckInterval);

    protected override void PostStop() => _store.Dispose();

    private void Submit(SubmitSweep s)
    {
        try
        {
            var spec = SweepSpec.Parse(s.SpecText, s.BaseDir, _options.MaxTrials, workloadTexts: s.WorkloadTexts);
            var r = _store.SubmitSweep(spec);
            Sender.Tell(new SweepAccepted(r.Sweep, r.Name, r.Trials, r.ToRun, r.Reused, r.Resubmitted));
            if (r.ToRun > 0) ServeWaiting();
        }
        catch (Exception e) when (e is ConfigException or StoreException)
        {
            Sender.Tell(new SweepRejected(e.Message));
        }
    }

    private void Dispatch(RequestWork w)
    {
        if (!_watched.ContainsKey(Sender))
        {
            Context.Watch(Sender);
            _watched[Sender] = w.Worker;
        }
        var worker = Sender;
        _waiting.RemoveAll(x => x.Worker.Equals(worker)); // one request outstanding per worker: this one replaces any held
        if (w.FreeSlots <= 0) worker.Tell(new WorkItems([]));
        else if (!Send(worker, w)) _waiting.Add((worker, w));
    }

    /// <summary>Takes up to the free slots' worth of queued trials for the worker; false (and nothing sent) if none is queued.</summary>
    private bool Send(IActorRef worker, RequestWork w) => Send(worker, w.Worker, _store.Dispatch(w.FreeSlots, w.Worker));

    private bool Send(IActorRef worker, WorkerId id, IReadOnlyList<TrialTicket> tickets)
    {
        if (tickets.Count == 0) return false;
        var deadline = DateTime.UtcNow + _options.TrialDeadline;
        foreach (var t in tickets) _inFlight[t.Id] = new InFlight(id, worker, deadline);
        foreach (var chunk in MessageChunker.Work(tickets)) worker.Tell(chunk);
        return true;
    }

    /// <summary>
    /// Trials were queued: answers the held requests while the queue lasts, a trial to each in
    /// turn (oldest request first), so that a small sweep spreads over the idle workers.
    /// </summary>
    private void ServeWaiting()
    {
        var given = _waiting.Select(_ => new List<TrialTicket>()).ToList();
        for (bool more = true; more;)
        {
            more = false;
            for (int i = 0; i < _waiting.Count; i++)
            {
                if (given[i].Count >= _waiting[i].Request.FreeSlots) continue;
                var next = _store.Dispatch(1, _waiting[i].Request.Worker);
                if (next.Count == 0) { more = false; break; }
                given[i].Add(next[0]);
                more = true;
            }
        }
        for (int i = _waiting.Count - 1; i >= 0; i--)
            if (Send(_waiting[i].Worker, _waiting[i].Request.Worker, given[i])) _waiting.RemoveAt(i);
    }

    private void Finished(TrialFinished f)
    {
        _store.StoreResult(f.Trial, f.ResultJson); // idempotent: a second copy is ignored
        _inFlight.Remove(f.Trial);
        Sender.Tell(new Ack(f.Trial));
    }

    private void Failed(TrialFailed f)
    {
        _store.MarkFailed(f.Trial, f.Error);
        _inFlight.Remove(f.Trial);
        Sender.Tell(new Ack(f.Trial));
    }

    private void WorkerGone(IActorRef worker)
    {
        _waiting.RemoveAll(x => x.Worker.Equals(worker));
        if (!_watched.Remove(worker, out var id)) return;
        var lost = _inFlight.Where(kv => kv.Value.Ref.Equals(worker)).Select(kv => kv.Key).ToList();
        foreach (var t in lost) _inFlight.Remove(t);
        int n = _store.RequeueWorker(id);
        if (n == 0) return;
        Context.GetLogger().Warning("coordinator: worker {0} left; {1} trial(s) queued again", id, n);
        ServeWaiting();
    }

    private void ExpireDeadlines()
    {
        var now = DateTime.UtcNow;
        var late = _inFlight.Where(kv => kv.Value.Deadline < now).Select(kv => kv.Key).ToList();
        if (late.Count == 0) return;
        foreach (var t in late) _inFlight.Remove(t);
        _store.Requeue(late);
        Context.GetLogger().Warning("coordinator: {0} trial(s) missed their deadline and were queued again", late.Count);
        ServeWaiting();
    }
}

/// <summary>The coordinator's settings (wall-clock values belong to the cluster layer only).</summary>
public sealed record CoordinatorOptions(string DatabasePath)
{
    public int MaxTrials { get; init; } = SweepSpec.DefaultMaxTrials;
    public TimeSpan TrialDeadline { get; init; } = TimeSpan.FromHours(2);
    public TimeSpan DeadlineCheckInterval { get; init; } = TimeSpan.FromSeconds(5);
}
