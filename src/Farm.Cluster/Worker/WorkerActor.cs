using Akka.Actor;
using Akka.Event;
using Farm.Actors;
using Farm.Cluster.Protocol;
using Farm.Cluster.Telemetry;

namespace Farm.Cluster.Worker;

/// <summary>
/// A worker node's puller: while it has free slots it asks the coordinator for work, runs each
/// trial on the actor engine, and sends the result until the coordinator acknowledges it.
/// Akka.NET has no built-in work pulling; this is the protocol of Farm.Cluster.Protocol.
/// A finished trial's result goes out at once, not on the next poll, carrying the next request
/// when the worker would ask now (protocol 2: the coordinator answers both with one message); the
/// coordinator holds a request that finds its queue empty until work comes, so the poll only
/// resends what is unacknowledged (without a request) and asks again when an answer may have been lost.
/// Every result that finds a ticket wanted carries a request, even while another result's request awaits
/// its answer (the coordinator gives a worker at most what it keeps less the tickets out with it), and no
/// request goes alone while such an answer is on its way: a worker of several slots sends one message
/// a trial, not a result and then a request after each answer (docs/cluster.md, "Every result asks").
/// A worker whose trials are short keeps more tickets than slots (<see cref="TicketDepth"/>) and sends its results several
/// to a message (<see cref="TrialsFinished"/>, protocol 3) when they are half the tickets it keeps, when it has nothing
/// left to run, or <see cref="TicketBatching.Window"/> after the first of them finished (docs/cluster.md, "Short trials
/// travel in batches"). With trials of the window or longer it keeps one a slot, sends each result at once, and gives
/// back the tickets it kept beyond its slots (<see cref="TicketsReturned"/>).
/// </summary>
public sealed class WorkerActor : ReceiveActor, IWithTimers
{
    private sealed class Poll
    {
        public static readonly Poll Instance = new();
    }

    private sealed class Flush
    {
        public static readonly Flush Instance = new();
    }

    private sealed record Completed(TrialId Trial, IFarmMessage Report, TimeSpan Elapsed);

    /// <summary>The cluster has had no coordinator for a while (Hosting.CoordinatorWatch): finish the running
    /// trials, start no other, and answer <see cref="Drained"/> once none runs; the node then rejoins.</summary>
    public sealed class Drain
    {
        public static readonly Drain Instance = new();
    }

    /// <summary>A coordinator is back before the node rejoined: take work again.</summary>
    public sealed class Resume
    {
        public static readonly Resume Instance = new();
    }

    /// <summary>No trial runs any more; every finished one is among the unacknowledged reports.</summary>
    public sealed class Drained
    {
        public static readonly Drained Instance = new();
    }

    /// <summary>The node is stopping: send the results gathered for a batch now, ask for nothing more, start no kept ticket and
    /// give those back; answered <see cref="Akka.Done"/>.</summary>
    public sealed class SendGathered
    {
        public static readonly SendGathered Instance = new();
    }

    private readonly WorkerId _id;
    private readonly int _slots;
    private readonly IActorRef _coordinator;
    /// <summary>Reports not yet acknowledged; the node hands them to its next incarnation when it rejoins.</summary>
    private readonly Dictionary<TrialId, IFarmMessage> _unacked;
    /// <summary>Tickets not started: those kept beyond the slots while trials are short (<see cref="TicketDepth"/>); each
    /// starts when a slot frees, or goes back to the coordinator when the depth falls (<see cref="TicketsReturned"/>).</summary>
    private Queue<TrialTicket> _backlog = new();
    /// <summary>When each running trial started (<see cref="System.Diagnostics.Stopwatch"/> ticks).</summary>
    private readonly Dictionary<TrialId, long> _startedAt = [];
    private readonly FarmMetrics _metrics = FarmMetrics.Get(Context.System);
    private int _running;
    private DateTime _askedAt = DateTime.MinValue;
    /// <summary>Results sent with a request whose answer (work or an acknowledgement) has not come.</summary>
    private readonly HashSet<TrialId> _carried = [];
    private readonly TicketBatching _batching;
    private readonly TicketDepth _depth;
    /// <summary>Results not sent yet (they are among <see cref="_unacked"/> too): the batch being gathered.</summary>
    private readonly List<TrialFinished> _unsent = [];
    private int _unsentChars;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    /// <summary>Who asked for a drain, while draining.</summary>
    private IActorRef? _draining;
    private WorkerRefused? _refusedBy;
    /// <summary>The node is stopping (<see cref="SendGathered"/>): as draining, it asks for nothing and starts nothing.</summary>
    private bool _stopping;

    /// <summary>Draining or stopping: no request, no trial started.</summary>
    private bool Idling => _draining is not null || _stopping;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="unacked">Reports a previous incarnation of this node held (resent from the first poll on); null: none.</param>
    /// <param name="batching">How short trials' tickets and results are batched; null: <see cref="TicketBatching.Default"/>.</param>
    public WorkerActor(WorkerId id, int slots, IActorRef coordinator, TimeSpan pollInterval, Dictionary<TrialId, IFarmMessage>? unacked = null,
        TicketBatching? batching = null)
    {
        _id = id;
        _batching = batching ?? TicketBatching.Default;
        _depth = new TicketDepth(_batching);
        _unacked = unacked ?? [];
        _slots = slots;
        _coordinator = coordinator;
        Timers.StartPeriodicTimer("poll", Poll.Instance, TimeSpan.Zero, pollInterval);

        Receive<Poll>(_ =>
        {
            foreach (var (trial, report) in _unacked)
                if (!_unsent.Any(f => f.Trial == trial)) _coordinator.Tell(report); // until acknowledged
            SendResults();
            foreach (long started in _startedAt.Values) _depth.Running(System.Diagnostics.Stopwatch.GetElapsedTime(started));
            ReturnExcess();
            Ask();
            PublishMetrics();
        });
        Receive<WorkItems>(items =>
        {
            foreach (var acked in items.AllAcked()) Acknowledged(acked);
            if (items.Held) _depth.Reset(); // the queue had run dry: these may be another sweep's trials
            _refusedBy = null;
            foreach (var ticket in items.Tickets) _backlog.Enqueue(ticket);
            StartBacklog();
            ReturnExcess(); // the depth fell while they were on their way
            if (_stopping) GiveBackKept(); // answers to requests sent before the node began to stop
            // Another result's request is still answered: it brings work or is held; asking alone now
            // would cost a message for a request the coordinator finds covered.
            if (_carried.Count == 0)
            {
                _askedAt = DateTime.MinValue;
                if (items.Tickets.Count > 0) Ask();
            }
            PublishMetrics();
        });
        Receive<Completed>(c =>
        {
            _running--;
            _startedAt.Remove(c.Trial);
            _unacked[c.Trial] = c.Report; // kept without the request: a resend asks for nothing
            if (c.Report is TrialFinished) _depth.Observe(c.Elapsed); // a failure's time says nothing of the trials'
            StartBacklog();
            ReturnExcess();
            if (c.Report is TrialFinished f)
            {
                _unsent.Add(f);
                _unsentChars += f.ResultJson.Length;
                if (ResultsDue()) SendResults();
                else if (!Timers.IsTimerActive("flush")) Timers.StartSingleTimer("flush", Flush.Instance, _batching.Window);
            }
            else
            {
                // A failure report and its request go as two messages. With nothing left here, ask now: the request
                // that went with an earlier result may have been cut to nothing while this trial was still out.
                _coordinator.Tell(c.Report);
                if (Held == 0 && _unsent.Count == 0) _askedAt = DateTime.MinValue;
                if (NextRequest() is { } next) _coordinator.Tell(next);
            }
            PublishMetrics();
            if (_draining is not null && _running == 0) _draining.Tell(Drained.Instance);
        });
        Receive<Flush>(_ => SendResults());
        Receive<SendGathered>(_ =>
        {
            // Stopping: no request goes with the results, no kept ticket starts, and those kept go back unstarted
            // (queued again an attempt less) rather than wait for the coordinator to see this node leave.
            _stopping = true;
            SendResults();
            GiveBackKept();
            Sender.Tell(Akka.Done.Instance);
        });
        Receive<Drain>(_ =>
        {
            _draining = Sender;
            SendResults();
            if (_backlog.Count > 0)
                _log.Warning("worker {0}: {1} ticket(s) not started are dropped (a coordinator queues them again)", _id, _backlog.Count);
            _backlog.Clear();
            if (_running == 0) Sender.Tell(Drained.Instance);
        });
        Receive<Resume>(_ =>
        {
            _draining = null;
            Ask();
        });
        Receive<WorkerRefused>(r =>
        {
            if (r == _refusedBy) return; // said once
            _refusedBy = r;
            _log.Error("worker {0}: refused by the coordinator: {1}; this worker runs no trials until a coordinator of its build takes over",
                _id, FarmProtocol.Mismatch(FarmProtocol.Version, FarmProtocol.Model, r.Protocol, r.Model));
        });
        Receive<Ack>(a =>
        {
            foreach (var trial in a.All()) Acknowledged(trial);
            PublishMetrics();
        });
    }

    private void Acknowledged(TrialId trial)
    {
        _unacked.Remove(trial);
        _carried.Remove(trial);
    }

    /// <summary>The tickets this worker keeps: one a slot, more while its trials are short.</summary>
    private int Capacity => _slots * _depth.Current;

    /// <summary>The tickets it holds now: running, or kept not started.</summary>
    private int Held => _running + _backlog.Count;

    /// <summary>
    /// The results gathered go now: one ticket a slot (each at once, as without batches), they are half the tickets kept (the
    /// other half keeps the slots busy while the answer comes), nothing is left to run, the batch nears the chunk budget,
    /// or the worker is draining. Otherwise they wait, at most <see cref="TicketBatching.Window"/>. Counted in results, not
    /// in free tickets: tickets on their way are not in hand yet, and a worker waiting for them would send each result alone.
    /// </summary>
    private bool ResultsDue() =>
        _depth.Current == 1 || _unsent.Count >= (Capacity + 1) / 2 || Held == 0
        || _unsentChars >= ProtocolLimits.ChunkBudgetBytes / 2 || Idling;

    /// <summary>The results gathered, with the next request when a ticket is wanted: one message, or a few when large (when
    /// one result is too large for any message, each goes alone, as it always did, and that one fails in remoting, not here).</summary>
    private void SendResults()
    {
        Timers.Cancel("flush");
        if (_unsent.Count == 0) return;
        var carried = CarriedRequest();
        if (carried is not null) foreach (var f in _unsent) _carried.Add(f.Trial);
        IReadOnlyList<TrialsFinished>? batches = null;
        if (_unsent.Count > 1)
        {
            try
            {
                batches = Serialization.MessageChunker.Finished(_unsent, carried);
            }
            catch (InvalidOperationException)
            {
            }
        }
        if (batches is not null) foreach (var batch in batches) _coordinator.Tell(batch);
        else for (int i = 0; i < _unsent.Count; i++) _coordinator.Tell(i == _unsent.Count - 1 ? _unsent[i] with { Next = carried } : _unsent[i]);
        _unsent.Clear();
        _unsentChars = 0;
    }

    /// <summary>Every ticket kept and not started goes back to the coordinator (the node is stopping).</summary>
    private void GiveBackKept() => GiveBack(_backlog.Count);

    /// <summary>The last <paramref name="count"/> tickets kept (the last to start) go back to the coordinator unstarted.</summary>
    private void GiveBack(int count)
    {
        if (count <= 0) return;
        var kept = _backlog.ToList();
        _backlog = new Queue<TrialTicket>(kept.Take(kept.Count - count));
        _coordinator.Tell(new TicketsReturned(_id, kept.Skip(kept.Count - count).Select(t => t.Id).ToList()));
    }

    /// <summary>Tickets kept beyond the slots once the depth is one (its trials turned out long) go back to the coordinator, the
    /// last to start first, so that another worker runs them rather than they wait here. At a depth above one the trials are
    /// short and what is kept runs soon: a depth that only wavers gives nothing back.</summary>
    private void ReturnExcess()
    {
        if (_depth.Current == 1) GiveBack(Math.Min(Held - _slots, _backlog.Count));
    }

    /// <summary>
    /// The request results carry: the free tickets whenever there are any, whatever is outstanding. It
    /// costs no message, and the coordinator caps it at the tickets not covered by those out with this worker.
    /// </summary>
    private RequestWork? CarriedRequest()
    {
        if (Idling) return null;
        int free = Capacity - Held;
        if (free <= 0) return null;
        _askedAt = DateTime.UtcNow;
        return new RequestWork(_id, free, _slots, Capacity);
    }

    private void PublishMetrics() => _metrics.PublishWorker(_id, _slots, _running, _unacked.Count);

    private void Ask()
    {
        if (NextRequest() is { } request) _coordinator.Tell(request);
    }

    /// <summary>The request to send alone now, or null: one outstanding at a time, asked again after a while if the answer got lost.</summary>
    private RequestWork? NextRequest() =>
        DateTime.UtcNow - _askedAt < Hosting.NodeDefaults.RequestResend ? null : CarriedRequest();

    private void StartBacklog()
    {
        while (_running < _slots && !Idling && _backlog.TryDequeue(out var ticket)) Start(ticket);
    }

    private void Start(TrialTicket ticket)
    {
        _running++;
        _startedAt[ticket.Id] = System.Diagnostics.Stopwatch.GetTimestamp();
        var self = Self;
        var system = Context.System;
        var metrics = _metrics;
        Task.Run(async () =>
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                // The ticket is the resolved trial: a worker parses no YAML (issue 14 item 3).
                var result = await TrialRunner.RunAsync(ticket.ToSpec(), system);
                var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(start);
                metrics.RecordTrial(_id, done: true, elapsed);
                return new Completed(ticket.Id, new TrialFinished(ticket.Id, _id, result.ToJson(indented: false)), elapsed);
            }
            catch (Exception e)
            {
                var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(start);
                metrics.RecordTrial(_id, done: false, elapsed);
                return new Completed(ticket.Id, new TrialFailed(ticket.Id, _id, e.Message), elapsed);
            }
        }).PipeTo(self);
    }
}
