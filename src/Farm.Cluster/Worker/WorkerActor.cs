using Akka.Actor;
using Farm.Actors;
using Farm.Cluster.Protocol;
using Farm.Cluster.Telemetry;

namespace Farm.Cluster.Worker;

/// <summary>
/// A worker node's puller: while it has free slots it asks the coordinator for work, runs each
/// trial on the actor engine, and sends the result until the coordinator acknowledges it.
/// Akka.NET has no built-in work pulling; this is the protocol of Farm.Cluster.Protocol.
/// A finished trial's result goes out with the next request at once, not on the next poll; the
/// coordinator holds a request that finds its queue empty until work comes, so the poll only
/// resends what is unacknowledged and asks again when an answer may have been lost.
/// </summary>
public sealed class WorkerActor : ReceiveActor, IWithTimers
{
    private sealed class Poll
    {
        public static readonly Poll Instance = new();
    }

    private sealed record Completed(TrialId Trial, IFarmMessage Report);

    private readonly WorkerId _id;
    private readonly int _slots;
    private readonly IActorRef _coordinator;
    private readonly Dictionary<TrialId, IFarmMessage> _unacked = [];
    /// <summary>Tickets beyond the free slots (a request answered twice: the first was held, the
    /// second a resend); each starts when a slot frees, none is dropped.</summary>
    private readonly Queue<TrialTicket> _backlog = new();
    private readonly FarmMetrics _metrics = FarmMetrics.Get(Context.System);
    private int _running;
    private DateTime _askedAt = DateTime.MinValue;

    public ITimerScheduler Timers { get; set; } = null!;

    public WorkerActor(WorkerId id, int slots, IActorRef coordinator, TimeSpan pollInterval)
    {
        _id = id;
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
            _askedAt = DateTime.MinValue;
            foreach (var ticket in items.Tickets) _backlog.Enqueue(ticket);
            StartBacklog();
            if (items.Tickets.Count > 0) Ask();
            PublishMetrics();
        });
        Receive<Completed>(c =>
        {
            _running--;
            _unacked[c.Trial] = c.Report;
            _coordinator.Tell(c.Report);
            StartBacklog();
            Ask();
            PublishMetrics();
        });
        Receive<Ack>(a =>
        {
            _unacked.Remove(a.Trial);
            PublishMetrics();
        });
    }

    private void PublishMetrics() => _metrics.PublishWorker(_id, _slots, _running, _unacked.Count);

    private void Ask()
    {
        int free = _slots - _running - _backlog.Count;
        // One outstanding request at a time; asked again after a while if the answer got lost.
        if (free <= 0 || DateTime.UtcNow - _askedAt < Hosting.NodeDefaults.RequestResend) return;
        _askedAt = DateTime.UtcNow;
        _coordinator.Tell(new RequestWork(_id, free));
    }

    private void StartBacklog()
    {
        while (_running < _slots && _backlog.TryDequeue(out var ticket)) Start(ticket);
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
