using Akka.Actor;
using Akka.Event;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Farm.Cluster.Sweeps;
using Farm.Cluster.Serialization;
using Farm.Simulation.Config;
using Microsoft.Extensions.Logging;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using Microsoft.Extensions.Logging.Abstractions;

namespace Farm.Cluster.Coordinator;

/// <summary>
/// The farm's coordinator (a cluster singleton): expands sweeps into the store, hands trials to
/// workers that ask for them, re-queues the trials of workers that leave, crash or miss their
/// deadline, and stores results idempotently by trial id. All state is in the store, so a
/// restarted coordinator resumes where the last one stopped.
/// A request for work that finds the queue empty is held (one per worker, the latest) and
/// answered as soon as trials are queued, so that a submitted sweep starts on every idle worker
/// at once rather than on each worker's next poll.
/// No message ever restarts this actor (docs/failure-behaviour.md): each is handled inside its own
/// catch and a failure is answered (<see cref="RequestFailed"/>) or, for a worker's report, left
/// unacknowledged so the worker sends it again. When the store cannot be written, dispatch stops
/// until a probe finds it writable again.
/// State changes (sweep submitted, trial dispatched, result stored, worker lost, sweep done) are
/// logged one line each with their ids as fields (<see cref="CoordinatorLog"/>).
/// </summary>
public sealed partial class CoordinatorActor : ReceiveActor, IWithTimers
{
    private sealed class CheckDeadlines
    {
        public static readonly CheckDeadlines Instance = new();
    }

    /// <summary>A spec parsed off the actor's thread, to be stored.</summary>
    private sealed record Parsed(SweepSpec Spec, IActorRef ReplyTo);

    private sealed record ParseFailed(Exception Error, IActorRef ReplyTo);

    /// <param name="Reported">Its worker reported on it (a result or failure not yet stored): no longer in its slots.</param>
    private sealed record InFlight(WorkerId Worker, IActorRef Ref, DateTime Deadline, bool Reported = false);

    /// <summary>How many dropped results are remembered so that each is logged once.</summary>
    private const int MaxRememberedDrops = 10_000;

    private readonly ResultStore _store;
    private readonly StoreHealth _health;
    private readonly CoordinatorOptions _options;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ILogger _events;
    private readonly Dictionary<TrialId, InFlight> _inFlight = [];
    private readonly Dictionary<IActorRef, WorkerId> _watched = [];
    /// <summary>The most tickets each watched worker keeps: as its last request said (<see cref="RequestWork.Keeps"/>), else the most it has asked for.</summary>
    private readonly Dictionary<IActorRef, int> _keeps = [];
    /// <summary>Idle workers' requests that found the queue empty, oldest first; one per worker.</summary>
    private readonly List<(IActorRef Worker, RequestWork Request)> _waiting = [];
    private readonly HashSet<TrialId> _dropped = [];
    /// <summary>
    /// The sweeps of in-flight trials as read for their dispatch log line, so that the result's line
    /// and its sweep-done check do not read them again. Forgotten on every submission (a new sweep
    /// may share a running trial) and when the trial leaves <see cref="_inFlight"/>.
    /// </summary>
    private readonly Dictionary<TrialId, IReadOnlyList<SweepId>> _sweepsOf = [];
    /// <summary>Why the store cannot be written, or null. While set, nothing is dispatched.</summary>
    private StoreUnavailableException? _fault;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The store is opened (and running trials re-queued) by the node, once per process: restarting this actor changes nothing in it.</summary>
    public CoordinatorActor(CoordinatorOptions options, ResultStore store, StoreHealth? health = null, ILogger? events = null)
    {
        _options = options;
        _store = store;
        _health = health ?? new StoreHealth();
        _events = events ?? NullLogger.Instance;
        // Left running by a previous coordinator: in flight, on their workers' old ids, until a worker
        // reports one or the grace ends and the deadline check queues it again (never run twice for a restart).
        var resumeBy = DateTime.UtcNow + options.ResumeGrace;
        foreach (var (trial, worker) in options.LeftRunning) _inFlight[trial] = new InFlight(worker ?? new WorkerId("?"), ActorRefs.Nobody, resumeBy);

        Handle<SubmitSweep>(Submit);
        Handle<Parsed>(StoreSweep);
        Handle<SubmitParsedSweep>(SubmitParsed);
        Handle<ParseFailed>(ParseRejected);
        Handle<RequestWork>(Dispatch);
        Handle<TrialFinished>(f => Finished([f], f.Next));
        Handle<TrialsFinished>(b => Finished(b.Results ?? [], b.Next));
        Handle<TicketsReturned>(Returned);
        Handle<TrialFailed>(Failed);
        Handle<GetStatus>(s => Sender.Tell(new StatusReply(s.Sweep switch
        {
            null => _store.ListSweeps(),
            { } id when _store.FindSweep(id) is null => [],
            { } id => [_store.Status(id)],
        }, _fault?.Message)));
        Handle<CancelSweep>(c =>
        {
            if (_store.FindSweep(c.Sweep) is null) { Sender.Tell(new UnknownSweep(c.Sweep)); return; }
            Sender.Tell(new SweepCancelled(c.Sweep, StoreWrite("cancel", () => _store.Cancel(c.Sweep))));
        });
        Handle<GetResults>(g =>
        {
            if (_store.FindSweep(g.Sweep) is null) { Sender.Tell(new UnknownSweep(g.Sweep)); return; }
            foreach (var chunk in MessageChunker.Results(g.Sweep, _store.Results(g.Sweep))) Sender.Tell(chunk);
        });
        Handle<GetResultsPage>(Page);
        Handle<GetSweep>(g => Sender.Tell(_store.FindSweep(g.Sweep) is { } s
            ? new SweepInfo(s.Id, s.Name, s.SpecText, s.Baseline)
            : new UnknownSweep(g.Sweep)));
        Handle<Terminated>(t => WorkerGone(t.ActorRef));
        Handle<CheckDeadlines>(_ =>
        {
            if (_fault is null) ExpireDeadlines();
            else TryRecover();
        });
        ReceiveMetrics();
    }

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("deadlines", CheckDeadlines.Instance, _options.DeadlineCheckInterval);
        StartMetrics();
    }

    /// <summary>
    /// Every message is handled in its own catch. Supervision would restart the actor, and a
    /// restart loses the held requests and in-flight deadlines for nothing: the store is
    /// transactional (a failed call changed nothing) and in-memory state changes only after the
    /// store call succeeded, so the actor is consistent after any failed message and carries on.
    /// </summary>
    private void Handle<T>(Action<T> handle) => Receive<T>(message =>
    {
        try
        {
            handle(message);
        }
        catch (Exception e)
        {
            OnError(message!, e);
        }
    });

    private void OnError(object message, Exception e)
    {
        var replyTo = message switch
        {
            Parsed p => p.ReplyTo,
            SubmitSweep or SubmitParsedSweep or GetStatus or CancelSweep or GetResults or GetResultsPage or GetSweep => Sender,
            _ => null,
        };
        if (e is StoreUnavailableException unavailable)
        {
            EnterFault(unavailable);
            replyTo?.Tell(new RequestFailed(unavailable.Message, Unavailable: true));
            if (HeldRequestOf(message) is { } w && !_waiting.Any(x => x.Worker.Equals(Sender))) Hold(Sender, w);
            return;
        }
        _log.Error(e, "coordinator: handling {0} failed; the coordinator carries on", message.GetType().Name);
        replyTo?.Tell(new RequestFailed($"the coordinator could not handle the request: {e.GetType().Name}: {e.Message}", Unavailable: false));
    }

    private void Submit(SubmitSweep s)
    {
        if (string.IsNullOrWhiteSpace(s.SpecText)) { Sender.Tell(new SweepRejected("the submission has no spec text")); return; }
        foreach (var (path, text) in s.WorkloadTexts ?? new Dictionary<string, string>())
            if (string.IsNullOrEmpty(path) || text is null)
            {
                Sender.Tell(new SweepRejected($"workload '{path}' of the submission has no text; each workload needs its file's path and text"));
                return;
            }
        if (_fault is not null) { Sender.Tell(new RequestFailed(_fault.Message, Unavailable: true)); return; }
        // Parsing and expanding a large spec takes a while: off this thread, so that workers and
        // other clients are answered meanwhile. Only the store is touched here.
        var replyTo = Sender;
        int maxTrials = _options.MaxTrials;
        Task.Run(() => SweepSpec.Parse(s.SpecText, s.BaseDir, maxTrials, workloadTexts: s.WorkloadTexts))
            .PipeTo(Self, success: spec => new Parsed(spec, replyTo), failure: e => new ParseFailed(e, replyTo));
    }

    /// <summary>A spec parsed in this process (farm sweep's embedded node): stored without a second parse.</summary>
    private void SubmitParsed(SubmitParsedSweep s)
    {
        if (_fault is not null) { Sender.Tell(new RequestFailed(_fault.Message, Unavailable: true)); return; }
        if (s.Spec.Trials.Count > _options.MaxTrials)
        {
            Sender.Tell(new SweepRejected($"the sweep has {s.Spec.Trials.Count} trials; the limit is {_options.MaxTrials}"));
            return;
        }
        StoreSweep(new Parsed(s.Spec, Sender));
    }

    private void StoreSweep(Parsed p)
    {
        SubmitResult r;
        try
        {
            r = StoreWrite("submit", () => _store.SubmitSweep(p.Spec));
        }
        catch (StoreException e) when (e is not StoreUnavailableException)
        {
            p.ReplyTo.Tell(new SweepRejected(e.Message));
            return;
        }
        _sweepsOf.Clear();
        p.ReplyTo.Tell(new SweepAccepted(r.Sweep, r.Name, r.Trials, r.ToRun, r.Reused, r.Resubmitted));
        CoordinatorLog.SweepSubmitted(_events, r.Sweep.Value, r.Name, r.Trials, r.ToRun, r.Reused);
        if (r.ToRun > 0) ServeWaiting();
        else if (_store.Status(r.Sweep) is { Complete: true } s) LogDone(s);
    }

    private void ParseRejected(ParseFailed f)
    {
        var e = f.Error is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : f.Error;
        if (e is ConfigException) { f.ReplyTo.Tell(new SweepRejected(e.Message)); return; }
        _log.Error(e, "coordinator: reading a submitted spec failed unexpectedly");
        f.ReplyTo.Tell(new RequestFailed($"the spec could not be read: {e.GetType().Name}: {e.Message}", Unavailable: false));
    }

    private void Dispatch(RequestWork w)
    {
        if (!Admit(w)) return;
        var worker = Sender;
        if (w.FreeSlots <= 0) { worker.Tell(new WorkItems([])); return; }
        // A request asked again while the answer to the first was on its way (after RequestResend, or
        // both held by a proxy that had not found the coordinator yet and delivered together) is not
        // answered twice: a worker gets at most the tickets it keeps less those it has not reported on.
        if (Capped(worker, w) is not { } request) return; // the worker asks again when a slot frees (its result carries the request)
        if (_fault is not null || !Send(worker, request)) Hold(worker, request);
    }

    /// <summary>
    /// The request cut to the tickets the worker keeps (<see cref="_keeps"/>) less those out with it it has not reported on,
    /// or null if that leaves none: a worker asks with every result while earlier answers may still be on their way.
    /// </summary>
    private RequestWork? Capped(IActorRef worker, RequestWork w) => Cut(w, _keeps[worker] - Unreported(worker));

    private int Unreported(IActorRef worker) => _inFlight.Values.Count(f => f.Ref.Equals(worker) && !f.Reported);

    private static RequestWork? Cut(RequestWork w, int most)
    {
        int free = Math.Min(w.FreeSlots, most);
        return free <= 0 ? null : free == w.FreeSlots ? w : w with { FreeSlots = free };
    }

    /// <summary>
    /// Holds a request until trials are queued (one per worker). One that says the worker's slots is cut to them less its
    /// unreported tickets (<see cref="RequestWork.Slots"/>): the trials it waits for may be long ones of a sweep not yet
    /// seen, and tickets a worker keeps beyond its slots would wait there while another worker idles. Nothing is held when
    /// that leaves none: the worker's next result carries a request again.
    /// </summary>
    private void Hold(IActorRef worker, RequestWork w)
    {
        if ((w.Slots > 0 ? Cut(w, w.Slots - Unreported(worker)) : w) is { } held) _waiting.Add((worker, held));
    }

    /// <summary>A request from the sender (alone or in its result): false if its build is refused (never a ticket it
    /// cannot read); otherwise the worker is watched and the request replaces any held one (one outstanding per worker).</summary>
    private bool Admit(RequestWork w)
    {
        if (FarmProtocol.Mismatch(w.Protocol, w.Model) is { } mismatch) { Refuse(w, mismatch); return false; }
        var worker = Sender;
        if (!_watched.ContainsKey(worker))
        {
            Context.Watch(worker);
            _watched[worker] = w.Worker;
            CoordinatorLog.WorkerJoined(_events, w.Worker.Value, w.FreeSlots);
        }
        _waiting.RemoveAll(x => x.Worker.Equals(worker));
        // What it keeps now when it says so (protocol 3: its depth falls as well as rises), else the most it has asked for.
        _keeps[worker] = w.Keeps > 0 ? w.Keeps : Math.Max(_keeps.GetValueOrDefault(worker), w.FreeSlots);
        return true;
    }

    /// <summary>The request a message carries that is to be held when the store fails while handling it.</summary>
    private static RequestWork? HeldRequestOf(object message) => message switch
    {
        RequestWork w => w,
        TrialFinished { Next: { FreeSlots: > 0 } w } when FarmProtocol.Mismatch(w.Protocol, w.Model) is null => w,
        TrialsFinished { Next: { FreeSlots: > 0 } w } when FarmProtocol.Mismatch(w.Protocol, w.Model) is null => w,
        _ => null,
    };

    /// <summary>Takes up to the request's free tickets' worth of queued trials for the worker; false (and nothing sent) if none is queued.</summary>
    private bool Send(IActorRef worker, RequestWork w) => Send(worker, w.Worker, StoreDispatch(w.FreeSlots, w.Worker));

    /// <param name="acked">A result this answer acknowledges (stored in the transaction that took the tickets); <paramref name="ackedToo"/> the others of its batch.</param>
    /// <param name="held">The tickets answer a held request (<see cref="WorkItems.Held"/>).</param>
    private bool Send(IActorRef worker, WorkerId id, IReadOnlyList<TrialTicket> tickets, TrialId? acked = null, IReadOnlyList<TrialId>? ackedToo = null, bool held = false)
    {
        if (tickets.Count == 0) return false;
        var deadline = DateTime.UtcNow + _options.TrialDeadline;
        foreach (var t in tickets) _inFlight[t.Id] = new InFlight(id, worker, deadline);
        if (_events.IsEnabled(LogLevel.Information))
            foreach (var t in tickets) CoordinatorLog.TrialDispatched(_events, t.Id.Value, SweepsField(t.Id), id.Value);
        foreach (var chunk in MessageChunker.Work(tickets, acked, ackedToo, held)) worker.Tell(chunk);
        return true;
    }

    /// <summary>
    /// Trials were queued: answers the held requests while the queue lasts, a trial to each in
    /// turn (oldest request first), so that a small sweep spreads over the idle workers. Trials
    /// taken before a store failure are still sent: the store already has them as running.
    /// </summary>
    private void ServeWaiting()
    {
        if (_fault is not null) return;
        var given = _waiting.Select(_ => new List<TrialTicket>()).ToList();
        Exception? failure = null;
        try
        {
            for (bool more = true; more;)
            {
                more = false;
                for (int i = 0; i < _waiting.Count; i++)
                {
                    if (given[i].Count >= _waiting[i].Request.FreeSlots) continue;
                    var next = StoreDispatch(1, _waiting[i].Request.Worker);
                    if (next.Count == 0) { more = false; break; }
                    given[i].Add(next[0]);
                    more = true;
                }
            }
        }
        catch (StoreUnavailableException e)
        {
            failure = e;
        }
        for (int i = _waiting.Count - 1; i >= 0; i--)
            if (Send(_waiting[i].Worker, _waiting[i].Request.Worker, given[i], held: true)) _waiting.RemoveAt(i);
        if (failure is not null) throw failure;
    }

    /// <summary>
    /// Results (one, or a batch from a worker whose trials are short: protocol 3) and the worker's next request when they
    /// carry one (protocol 2): the results are stored and the request's trials taken in one transaction, committed before
    /// the answer goes out, and one message answers all (<see cref="WorkItems.Acked"/>, <see cref="WorkItems.AckedToo"/>);
    /// with none queued the results are acknowledged alone and the request held. When a result is refused or unknown, the
    /// transaction changed nothing: each result is then stored on its own, and the request answered on its own.
    /// </summary>
    private void Finished(IReadOnlyList<TrialFinished> results, RequestWork? request)
    {
        var worker = Sender;
        if (results.Count == 0) { if (request is not null) Dispatch(request); return; }
        foreach (var f in results) MarkReported(f.Trial);
        var next = request is { FreeSlots: > 0 } r && Admit(r) ? Capped(worker, r) : null;
        if (_fault is not null)
        {
            if (next is not null) Hold(worker, next); // answered once the store takes writes again
            return; // not acknowledged: the worker keeps the results and sends them again
        }
        IReadOnlyList<TrialTicket>? tickets = null; // taken with the results; null: not (yet) taken
        try
        {
            bool logging = _events.IsEnabled(LogLevel.Information);
            // The results' sweeps before the write (kept since their dispatch): the sweep-done check is read in its transaction.
            var sweeps = logging ? results.Select(f => SweepsOfOrNone(f.Trial)).ToList() : null;
            var batch = results.Select(f => (f.Trial, f.ResultJson)).ToList();
            var (stored, taken, finished) = StoreWrite("result", () => _store.StoreResultsAndDispatch(batch, next?.FreeSlots ?? 0, next?.Worker ?? results[0].Worker, sweeps));
            if (next is not null) tickets = taken;
            if (logging)
                for (int i = 0; i < results.Count; i++)
                    if (stored[i]) CoordinatorLog.ResultStored(_events, results[i].Trial.Value, SweepsField(results[i].Trial), results[i].Worker.Value);
            foreach (var s in finished) LogDone(s);
        }
        catch (StoreException e) when (e is not StoreUnavailableException)
        {
            foreach (var f in results) StoreAlone(f);
        }
        foreach (var f in results) Landed(f.Trial);
        var acked = results[0].Trial;
        var ackedToo = results.Count > 1 ? results.Skip(1).Select(f => f.Trial).ToList() : null;
        if (next is not null && tickets is not null && Send(worker, next.Worker, tickets, acked, ackedToo)) return;
        worker.Tell(new Ack(acked, ackedToo));
        if (next is null) return;
        if (tickets is null && Send(worker, next)) return; // a result was refused: its request alone
        Hold(worker, next); // none queued: held, as a request alone would be
    }

    /// <summary>A result stored on its own (its batch held a refused one): an unknown or refused result is dropped and
    /// its trial marked failed, so that the worker stops resending it.</summary>
    private void StoreAlone(TrialFinished f)
    {
        try
        {
            if (StoreWrite("result", () => _store.StoreResult(f.Trial, f.ResultJson)))
            {
                if (_events.IsEnabled(LogLevel.Information)) CoordinatorLog.ResultStored(_events, f.Trial.Value, SweepsField(f.Trial), f.Worker.Value);
                LogFinishedSweeps(f.Trial);
            }
        }
        catch (UnknownTrialException)
        {
            Drop(f.Trial, f.Worker, "a result for a trial this store does not hold (from before the coordinator's store was replaced?)");
        }
        catch (StoreException e) when (e is not StoreUnavailableException)
        {
            Drop(f.Trial, f.Worker, e.Message);
            if (StoreWrite("failure", () => _store.MarkFailed(f.Trial, $"the worker's result was refused: {e.Message}"))) LogFinishedSweeps(f.Trial);
        }
    }

    /// <summary>
    /// Tickets a worker gives back unstarted (its trials turned out long): queued again, an attempt less, and handed to
    /// held requests. Their deadline is moved to now first, so that if the store cannot be written they are queued again
    /// by the deadline check once it can, not two hours later.
    /// </summary>
    private void Returned(TicketsReturned r)
    {
        var mine = (r.Trials ?? []).Where(t => _inFlight.TryGetValue(t, out var f) && f.Ref.Equals(Sender) && !f.Reported).Distinct().ToList();
        if (mine.Count == 0) return;
        foreach (var t in mine) _inFlight[t] = _inFlight[t] with { Deadline = DateTime.MinValue };
        int n = StoreWrite("requeue", () => _store.ReturnTickets(r.Worker, mine));
        foreach (var t in mine)
        {
            if (_events.IsEnabled(LogLevel.Information)) CoordinatorLog.TicketReturned(_events, t.Value, SweepsField(t), r.Worker.Value);
            Landed(t);
        }
        _metrics.RecordRequeued("returned", n);
        ServeWaiting();
    }

    private void Failed(TrialFailed f)
    {
        MarkReported(f.Trial);
        if (_fault is not null) return;
        try
        {
            if (StoreWrite("failure", () => _store.MarkFailed(f.Trial, f.Error)))
            {
                CoordinatorLog.TrialFailed(_events, f.Trial.Value, SweepsField(f.Trial), f.Worker.Value, f.Error);
                LogFinishedSweeps(f.Trial);
            }
        }
        catch (UnknownTrialException)
        {
            Drop(f.Trial, f.Worker, "a failure report for a trial this store does not hold");
        }
        Landed(f.Trial);
        Sender.Tell(new Ack(f.Trial));
    }

    /// <summary>An unknown or refused report: acknowledged (so the worker stops resending it) and logged once per trial.</summary>
    private void Drop(TrialId trial, WorkerId worker, string why)
    {
        if (_dropped.Count >= MaxRememberedDrops) _dropped.Clear();
        if (_dropped.Add(trial)) _log.Warning("coordinator: dropped a report from worker {0} for trial {1}: {2}", worker, trial, why);
    }

    private void Page(GetResultsPage g)
    {
        if (_store.FindSweep(g.Sweep) is not { } sweep) { Sender.Tell(new UnknownSweep(g.Sweep)); return; }
        var items = _store.ResultsPage(g.Sweep, Math.Max(0, g.FromPosition), Math.Clamp(g.MaxItems, 1, ProtocolLimits.MaxPageItems), ProtocolLimits.ChunkBudgetBytes);
        // The store's estimate keeps the page near the budget; the encoded size decides.
        var fits = MessageChunker.Split(items, ProtocolLimits.ChunkBudgetBytes, FarmCodec.SizeOf(new ResultsPage(g.Sweep, [], int.MaxValue)),
            i => $"result of trial {i.Trial} at position {i.Position}")[0];
        int? next = fits.Count > 0 && fits[^1].Position + 1 < sweep.Positions ? fits[^1].Position + 1 : null;
        Sender.Tell(new ResultsPage(g.Sweep, fits, next));
    }

    private void WorkerGone(IActorRef worker)
    {
        _waiting.RemoveAll(x => x.Worker.Equals(worker));
        if (!_watched.TryGetValue(worker, out var id)) return;
        // The store first: if it fails, the in-flight entries stay and their deadlines re-queue them later.
        int n = StoreWrite("requeue", () => _store.RequeueWorker(id));
        _watched.Remove(worker);
        _keeps.Remove(worker);
        foreach (var t in _inFlight.Where(kv => kv.Value.Ref.Equals(worker)).Select(kv => kv.Key).ToList()) Landed(t);
        CoordinatorLog.WorkerLost(_events, id.Value, n);
        _metrics.RecordRequeued("worker_lost", n);
        if (n == 0) return;
        ServeWaiting();
    }

    private void ExpireDeadlines()
    {
        var now = DateTime.UtcNow;
        var late = _inFlight.Where(kv => kv.Value.Deadline < now).Select(kv => kv.Key).ToList();
        if (late.Count == 0) return;
        StoreWrite("requeue", () => _store.Requeue(late));
        _metrics.RecordRequeued("deadline", late.Count);
        foreach (var t in late)
        {
            CoordinatorLog.DeadlineMissed(_events, t.Value, SweepsField(t), _inFlight[t].Worker.Value);
            Landed(t);
        }
        ServeWaiting();
    }

    private void MarkReported(TrialId trial)
    {
        if (_inFlight.TryGetValue(trial, out var f)) _inFlight[trial] = f with { Reported = true };
    }

    /// <summary>The trial is no longer out with a worker (result, failure, worker lost, deadline).</summary>
    private void Landed(TrialId trial)
    {
        _inFlight.Remove(trial);
        _sweepsOf.Remove(trial);
    }

    /// <summary>The sweeps of a trial for the log; a store that cannot be read only costs the field.</summary>
    private string SweepsField(TrialId trial)
    {
        try
        {
            return string.Join(',', SweepsOf(trial).Select(s => s.Value));
        }
        catch (StoreException)
        {
            return "?";
        }
    }

    /// <summary>The trial's sweeps, or none when the store cannot be read (the log only loses the sweep-done line).</summary>
    private IReadOnlyList<SweepId> SweepsOfOrNone(TrialId trial)
    {
        try
        {
            return SweepsOf(trial);
        }
        catch (StoreException)
        {
            return [];
        }
    }

    private IReadOnlyList<SweepId> SweepsOf(TrialId trial)
    {
        if (_sweepsOf.TryGetValue(trial, out var known)) return known;
        var sweeps = _store.SweepsOf(trial);
        if (_inFlight.ContainsKey(trial)) _sweepsOf[trial] = sweeps;
        return sweeps;
    }

    private void LogFinishedSweeps(TrialId trial)
    {
        if (!_events.IsEnabled(LogLevel.Information)) return;
        try
        {
            foreach (var s in _store.FinishedSweeps(SweepsOf(trial))) LogDone(s);
        }
        catch (StoreException)
        {
        }
    }

    private void LogDone(SweepStatus s) => CoordinatorLog.SweepDone(_events, s.Sweep.Value, s.Name, s.Done, s.Failed, s.CancelledTrials, s.Trials);

    private void EnterFault(StoreUnavailableException e)
    {
        if (_fault is not null) return;
        _fault = e;
        string message = e.Message;
        if (!e.Recoverable) message += SaveCopy();
        _fault = new StoreUnavailableException(message, e.InnerException, e.Recoverable);
        _health.Report(message);
        _log.Error("coordinator: {0}. Dispatch has stopped; workers keep their results until the store takes them{1}",
            message, e.Recoverable ? " (checked again every " + _options.DeadlineCheckInterval.TotalSeconds + " s)" : "; restart the coordinator");
    }

    /// <summary>
    /// The open database still holds everything stored: copies it beside the lost file or, when its
    /// directory went too (deleted with the file, unmounted), into the temporary directory.
    /// </summary>
    private string SaveCopy()
    {
        string suffix = $".recovered-{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}";
        var failures = new List<string>();
        foreach (string copy in new[] { _store.Path + suffix, Path.Combine(Path.GetTempPath(), Path.GetFileName(_store.Path) + suffix) })
        {
            try
            {
                _store.SaveCopy(copy);
                return $"; everything it held is saved in {copy} (serve with --db on that file to carry on)";
            }
            catch (Exception e)
            {
                failures.Add($"to {copy}: {e.Message}");
            }
        }
        return $"; saving a copy failed too ({string.Join("; ", failures)})";
    }

    private void TryRecover()
    {
        if (_fault is not { Recoverable: true }) return;
        try
        {
            _store.Probe();
        }
        catch (StoreUnavailableException)
        {
            return; // still failing; said once already
        }
        _log.Warning("coordinator: the store {0} takes writes again; dispatch resumes", _store.Path);
        _fault = null;
        _health.Report(null);
        ServeWaiting();
        ExpireDeadlines();
    }
}

/// <summary>The coordinator's settings (wall-clock values belong to the cluster layer only).</summary>
public sealed record CoordinatorOptions
{
    public int MaxTrials { get; init; } = SweepSpec.DefaultMaxTrials;
    public TimeSpan TrialDeadline { get; init; } = Hosting.NodeDefaults.TrialDeadline;
    /// <summary>Also how often a store that failed is probed for writes.</summary>
    public TimeSpan DeadlineCheckInterval { get; init; } = Hosting.NodeDefaults.StoreCheckInterval;
    /// <summary>Trials a previous coordinator left running, as the store says at start (the node reads them once per process).</summary>
    public IReadOnlyList<(TrialId Trial, WorkerId? Worker)> LeftRunning { get; init; } = [];
    /// <summary>How long their workers have to report them (they may be rejoining) before they are queued again.</summary>
    public TimeSpan ResumeGrace { get; init; } = Hosting.NodeDefaults.ResumeGrace;
}
