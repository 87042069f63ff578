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
/// Every result that finds a slot free carries a request, even while another result's request awaits
/// its answer (the coordinator gives a worker at most its slots less the tickets out with it), and no
/// request goes alone while such an answer is on its way: a worker of several slots sends one message
/// a trial, not a result and then a request after each answer (docs/cluster.md, "Every result asks").
/// </summary>
public sealed class WorkerActor : ReceiveActor, IWithTimers
{
    private sealed class Poll
    {
        public static readonly Poll Instance = new();
    }

    private sealed record Completed(TrialId Trial, IFarmMessage Report);

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

    private readonly WorkerId _id;
    private readonly int _slots;
    private readonly IActorRef _coordinator;
    /// <summary>Reports not yet acknowledged; the node hands them to its next incarnation when it rejoins.</summary>
    private readonly Dictionary<TrialId, IFarmMessage> _unacked;
    /// <summary>Tickets beyond the free slots (a request answered twice: the first was held, the
    /// second a resend); each starts when a slot frees, none is dropped.</summary>
    private readonly Queue<TrialTicket> _backlog = new();
    private readonly FarmMetrics _metrics = FarmMetrics.Get(Context.System);
    private int _running;
    private DateTime _askedAt = DateTime.MinValue;
    /// <summary>Results sent with a request whose answer (work or an acknowledgement) has not come.</summary>
    private readonly HashSet<TrialId> _carried = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    /// <summary>Who asked for a drain, while draining.</summary>
    private IActorRef? _draining;
    private WorkerRefused? _refusedBy;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="unacked">Reports a previous incarnation of this node held (resent from the first poll on); null: none.</param>
    public WorkerActor(WorkerId id, int slots, IActorRef coordinator, TimeSpan pollInterval, Dictionary<TrialId, IFarmMessage>? unacked = null)
    {
        _id = id;
        _unacked = unacked ?? [];
        _slots = slots;
        _coordinator = coordinator;
        Timers.StartPeriodicTimer("poll", Poll.Instance, TimeSpan.Zero, pollInterval);

        Receive<Poll>(_ =>
        {
            foreach (var report in _unacked.Values) _coordinator.Tell(report); // until acknowledged
            Ask();
            PublishMetrics();
        });
        Receive<WorkItems>(items =>
        {
            if (items.Acked is { } acked) Acknowledged(acked);
            _refusedBy = null;
            foreach (var ticket in items.Tickets) _backlog.Enqueue(ticket);
            StartBacklog();
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
            _unacked[c.Trial] = c.Report; // kept without the request: a resend asks for nothing
            StartBacklog();
            if (c.Report is TrialFinished f && CarriedRequest() is { } carried)
            {
                _carried.Add(f.Trial);
                _coordinator.Tell(f with { Next = carried });
            }
            else
            {
                // A result with no slot free goes alone; a failure report and its request go as two messages.
                _coordinator.Tell(c.Report);
                if (c.Report is TrialFailed && NextRequest() is { } next) _coordinator.Tell(next);
            }
            PublishMetrics();
            if (_draining is not null && _running == 0) _draining.Tell(Drained.Instance);
        });
        Receive<Drain>(_ =>
        {
            _draining = Sender;
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
            Acknowledged(a.Trial);
            PublishMetrics();
        });
    }

    private void Acknowledged(TrialId trial)
    {
        _unacked.Remove(trial);
        _carried.Remove(trial);
    }

    /// <summary>
    /// The request a result carries: the free slots whenever there are any, whatever is outstanding. It
    /// costs no message, and the coordinator caps it at the slots not covered by tickets out with this worker.
    /// </summary>
    private RequestWork? CarriedRequest()
    {
        if (_draining is not null) return null;
        int free = _slots - _running - _backlog.Count;
        if (free <= 0) return null;
        _askedAt = DateTime.UtcNow;
        return new RequestWork(_id, free);
    }

    private void PublishMetrics() => _metrics.PublishWorker(_id, _slots, _running, _unacked.Count);

    private void Ask()
    {
        if (NextRequest() is { } request) _coordinator.Tell(request);
    }

    /// <summary>The request to send now, or null: one outstanding at a time, asked again after a while if the answer got lost.</summary>
    private RequestWork? NextRequest()
    {
        if (_draining is not null) return null;
        int free = _slots - _running - _backlog.Count;
        if (free <= 0 || DateTime.UtcNow - _askedAt < Hosting.NodeDefaults.RequestResend) return null;
        _askedAt = DateTime.UtcNow;
        return new RequestWork(_id, free);
    }

    private void StartBacklog()
    {
        while (_running < _slots && _draining is null && _backlog.TryDequeue(out var ticket)) Start(ticket);
    }

    private void Start(TrialTicket ticket)
    {
        _running++;
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
                metrics.RecordTrial(_id, done: true, System.Diagnostics.Stopwatch.GetElapsedTime(start));
                return new Completed(ticket.Id, new TrialFinished(ticket.Id, _id, result.ToJson(indented: false)));
            }
            catch (Exception e)
            {
                metrics.RecordTrial(_id, done: false, System.Diagnostics.Stopwatch.GetElapsedTime(start));
                return new Completed(ticket.Id, new TrialFailed(ticket.Id, _id, e.Message));
            }
        }).PipeTo(self);
    }
}
