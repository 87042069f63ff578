using Akka.Actor;
using Farm.Actors;
using Farm.Cluster.Protocol;

namespace Farm.Cluster.Worker;

/// <summary>
/// A worker node's puller: while it has free slots it asks the coordinator for work, runs each
/// trial on the actor engine, and sends the result until the coordinator acknowledges it.
/// Akka.NET has no built-in work pulling; this is the protocol of Farm.Cluster.Protocol.
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
        });
        Receive<WorkItems>(items =>
        {
            _askedAt = DateTime.MinValue;
            foreach (var ticket in items.Tickets) Start(ticket);
            if (items.Tickets.Count > 0) Ask();
        });
        Receive<Completed>(c =>
        {
            _running--;
            _unacked[c.Trial] = c.Report;
            _coordinator.Tell(c.Report);
            Ask();
        });
        Receive<Ack>(a => _unacked.Remove(a.Trial));
    }

    private void Ask()
    {
        int free = _slots - _running;
        // One outstanding request at a time; asked again after a while if the answer got lost.
        if (free <= 0 || DateTime.UtcNow - _askedAt < TimeSpan.FromSeconds(5)) return;
        _askedAt = DateTime.UtcNow;
        _coordinator.Tell(new RequestWork(_id, free));
    }

    private void Start(TrialTicket ticket)
    {
        _running++;
        var self = Self;
        var system = Context.System;
        Task.Run(async () =>
        {
            try
            {
                var result = await TrialRunner.RunAsync(ticket.ToSpec(), system);
                return new Completed(ticket.Id, new TrialFinished(ticket.Id, _id, result.ToJson(indented: false)));
            }
            catch (Exception e)
            {
                return new Completed(ticket.Id, new TrialFailed(ticket.Id, _id, e.Message));
            }
        }).PipeTo(self);
    }
}
