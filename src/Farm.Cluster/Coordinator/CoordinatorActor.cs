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
        var tickets = _store.Dispatch(Math.Max(0, w.FreeSlots), w.Worker);
        var deadline = DateTime.UtcNow + _options.TrialDeadline;
        foreach (var t in tickets) _inFlight[t.Id] = new InFlight(w.Worker, Sender, deadline);
        if (tickets.Count == 0) { Sender.Tell(new WorkItems([])); return; }
        foreach (var chunk in MessageChunker.Work(tickets)) Sender.Tell(chunk);
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
        if (!_watched.Remove(worker, out var id)) return;
        var lost = _inFlight.Where(kv => kv.Value.Ref.Equals(worker)).Select(kv => kv.Key).ToList();
        foreach (var t in lost) _inFlight.Remove(t);
        int n = _store.RequeueWorker(id);
        if (n > 0) Context.GetLogger().Warning("coordinator: worker {0} left; {1} trial(s) queued again", id, n);
    }

    private void ExpireDeadlines()
    {
        var now = DateTime.UtcNow;
        var late = _inFlight.Where(kv => kv.Value.Deadline < now).Select(kv => kv.Key).ToList();
        if (late.Count == 0) return;
        foreach (var t in late) _inFlight.Remove(t);
        _store.Requeue(late);
        Context.GetLogger().Warning("coordinator: {0} trial(s) missed their deadline and were queued again", late.Count);
    }
}

/// <summary>The coordinator's settings (wall-clock values belong to the cluster layer only).</summary>
public sealed record CoordinatorOptions(string DatabasePath)
{
    public int MaxTrials { get; init; } = SweepSpec.DefaultMaxTrials;
    public TimeSpan TrialDeadline { get; init; } = TimeSpan.FromHours(2);
    public TimeSpan DeadlineCheckInterval { get; init; } = TimeSpan.FromSeconds(5);
}
