using Akka.Actor;
using Farm.Cluster.Coordinator;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Farm.Cluster.Worker;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>
/// Protocol 2: a worker's result carries its next request (<see cref="TrialFinished.Next"/>), and
/// the coordinator stores the result and takes the next trials in one transaction and answers
/// both with one message (<see cref="WorkItems.Acked"/>). The guarantees of
/// docs/failure-behaviour.md stay: a result is stored once, before it is acknowledged; a trial
/// taken for a worker that dies before it hears the answer is queued again, not lost; no trial
/// goes to two workers.
/// </summary>
public sealed class CombinedReportTests : IDisposable
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30); // bounds a hang only

    private readonly TempDir _dir = new();
    private readonly ActorSystem _system = ActorSystem.Create("combined-report", "akka.loglevel = ERROR");
    private readonly ResultStore _store;
    private readonly Sweeps.SweepSpec _spec = Specs.Parse(Specs.Small); // 4 trials
    private readonly EventCounter _events = new();

    public CombinedReportTests() => _store = new ResultStore(Path.Combine(_dir.Path, "farm.db"));

    public void Dispose()
    {
        _system.Terminate().Wait(Answer);
        _store.Dispose();
        _dir.Dispose();
    }

    /// <summary>A worker whose messages the test sends and reads; stopping it is the worker's process dying.</summary>
    private sealed class WorkerStandIn(IActorRef inbox) : ReceiveActor
    {
        public static Props For(IActorRef inbox) => Props.Create(() => new WorkerStandIn(inbox));

        protected override void Unhandled(object message) => inbox.Forward(message);
    }

    private string Result(TrialId trial) => Specs.FakeResult(_spec.Trials.Single(t => t.Id == trial));

    [Fact]
    public async Task AResultCarryingARequest_IsStoredOnce_AndAWorkerKilledBeforeTheAnswer_LosesNoTrial()
    {
        _store.SubmitSweep(_spec);
        var coordinator = _system.ActorOf(Props.Create(() => new CoordinatorActor(new CoordinatorOptions(), _store, null, _events)));
        var a = new WorkerId("worker-a");
        var aInbox = Inbox.Create(_system);
        var aRef = _system.ActorOf(WorkerStandIn.For(aInbox.Receiver));

        coordinator.Tell(new RequestWork(a, 1), aRef);
        var t1 = Assert.IsType<WorkItems>(await aInbox.ReceiveAsync(Answer)).Tickets.Single().Id;

        // The result of t1 with the next request: one answer, the next trial and t1's acknowledgement.
        coordinator.Tell(new TrialFinished(t1, a, Result(t1), new RequestWork(a, 1)), aRef);
        var answer = Assert.IsType<WorkItems>(await aInbox.ReceiveAsync(Answer));
        Assert.Equal(t1, answer.Acked);
        var t2 = answer.Tickets.Single().Id;
        Assert.NotEqual(t1, t2);

        // A resend of t1 (as after a lost answer; a resend carries no request): acknowledged, not stored again.
        coordinator.Tell(new TrialFinished(t1, a, Specs.FakeResult(_spec.Trials.Single(t => t.Id == t1), "second copy")), aRef);
        Assert.Equal(new Ack(t1), await aInbox.ReceiveAsync(Answer));

        // t2's result with a request, and the worker dies before the answer reaches it: the
        // result is stored, the trial taken for the request (t3) goes back to the queue.
        coordinator.Tell(new TrialFinished(t2, a, Result(t2), new RequestWork(a, 1)), aRef);
        _system.Stop(aRef);

        // Another worker gets every trial not done, each once, and never t1 or t2.
        var b = new WorkerId("worker-b");
        var bInbox = Inbox.Create(_system);
        var given = new List<TrialId>();
        while (given.Count < 2)
        {
            bInbox.Send(coordinator, new RequestWork(b, 4)); // held while the queue is empty (t3 still out with worker-a)
            given.AddRange(Assert.IsType<WorkItems>(await bInbox.ReceiveAsync(Answer)).Tickets.Select(t => t.Id));
        }
        Assert.Equal(given.Distinct().Count(), given.Count);
        Assert.Equal(_spec.Trials.Select(t => t.Id.Value).Except([t1.Value, t2.Value]).Order(), given.Select(t => t.Value).Order());

        // worker-b reports both with requests: the first answer is an Ack (queue empty, request held), then the second.
        foreach (var t in given)
        {
            bInbox.Send(coordinator, new TrialFinished(t, b, Result(t), new RequestWork(b, 4)));
            Assert.Equal(new Ack(t), await bInbox.ReceiveAsync(Answer));
        }

        var records = _spec.Trials.Select(t => _store.FindTrial(t.Id)!).ToList();
        Assert.All(records, r => Assert.Equal("done", r.Status));
        Assert.Equal(Result(t1), _store.FindTrial(t1)!.ResultJson); // the first copy kept
        // Attempts: t1, t2 and the trial worker-b got first-hand once; the one taken for the dead worker twice.
        Assert.Equal([1, 1, 1, 2], records.Select(r => r.Attempts).Order());
        // Each result stored (and logged) exactly once.
        Assert.Equal(_spec.Trials.Select(t => t.Id.Value).Order(), _events.Stored.Order());
    }

    [Fact]
    public async Task ARefusedResultCarryingARequest_TakesNoTrialWithIt_ButItsRequestIsStillAnswered()
    {
        _store.SubmitSweep(_spec);
        var coordinator = _system.ActorOf(Props.Create(() => new CoordinatorActor(new CoordinatorOptions(), _store, null, null)));
        var w = new WorkerId("worker");
        var inbox = Inbox.Create(_system);
        inbox.Send(coordinator, new RequestWork(w, 1));
        var t1 = Assert.IsType<WorkItems>(await inbox.ReceiveAsync(Answer)).Tickets.Single().Id;
        var other = _spec.Trials.First(t => t.Id != t1);

        // A result for another configuration: refused (the trial fails with the reason), acknowledged, then the request answered.
        inbox.Send(coordinator, new TrialFinished(t1, w, Specs.FakeResult(other), new RequestWork(w, 1)));
        Assert.Equal(new Ack(t1), await inbox.ReceiveAsync(Answer));
        var next = Assert.IsType<WorkItems>(await inbox.ReceiveAsync(Answer));
        Assert.Null(next.Acked);
        Assert.Single(next.Tickets);
        Assert.Equal("failed", _store.FindTrial(t1)!.Status);
    }

    [Fact]
    public void TheStore_CommitsAResultAndTheNextTrialsTogether_OrNeither()
    {
        _store.SubmitSweep(_spec);
        var w = new WorkerId("worker");
        var t1 = _store.Dispatch(1, w).Single().Id;
        var trial1 = _spec.Trials.Single(t => t.Id == t1);

        var refused = Assert.Throws<StoreException>(() => _store.StoreResultsAndDispatch([(t1, Specs.FakeResult(_spec.Trials.First(t => t.Id != t1)))], 2, w, null));
        Assert.Contains("is for configuration", refused.Message);
        Assert.Equal(["running", "queued", "queued", "queued"], _spec.Trials.Select(t => _store.FindTrial(t.Id)!.Status).OrderDescending());

        var (stored, tickets, _) = _store.StoreResultsAndDispatch([(t1, Specs.FakeResult(trial1))], 2, w, null);
        Assert.Equal([true], stored);
        Assert.Equal(2, tickets.Count);
        Assert.All(tickets, t => Assert.Equal(("running", (WorkerId?)w), (_store.FindTrial(t.Id)!.Status, _store.FindTrial(t.Id)!.Worker)));
        Assert.Equal("done", _store.FindTrial(t1)!.Status);

        // The same result again: not stored twice; the last queued trial is still taken.
        var (again, last, _) = _store.StoreResultsAndDispatch([(t1, Specs.FakeResult(trial1, "again"))], 2, w, null);
        Assert.Equal([false], again);
        Assert.Single(last);
        Assert.Equal(Specs.FakeResult(trial1), _store.FindTrial(t1)!.ResultJson);
    }

    [Fact]
    public async Task AWorker_SendsItsNextRequestWithItsResult_AndTakesTheAcknowledgementFromTheAnswer()
    {
        var coordinator = Inbox.Create(_system);
        var id = new WorkerId("worker-real");
        var worker = _system.ActorOf(Props.Create(() => new WorkerActor(id, 1, coordinator.Receiver, TimeSpan.FromMinutes(10), null, TicketBatching.Off)));
        Assert.Equal(new RequestWork(id, 1, slots: 1, keeps: 1), await coordinator.ReceiveAsync(Answer));

        var trial = _spec.Trials[0];
        coordinator.Send(worker, new WorkItems([trial.Ticket]));
        var finished = Assert.IsType<TrialFinished>(await coordinator.ReceiveAsync(Answer));
        Assert.Equal((trial.Id, new RequestWork(id, 1, slots: 1, keeps: 1)), (finished.Trial, finished.Next)); // its only slot is free again: asked with the result

        // The answer: the next trial with the acknowledgement. The worker runs it and reports it, asking again.
        var second = _spec.Trials[1];
        coordinator.Send(worker, new WorkItems([second.Ticket], Acked: trial.Id));
        var next = Assert.IsType<TrialFinished>(await coordinator.ReceiveAsync(Answer));
        Assert.Equal((second.Id, new RequestWork(id, 1, slots: 1, keeps: 1)), (next.Trial, next.Next));
    }

    /// <summary>The coordinator's ResultStored events (1003), by trial id.</summary>
    private sealed class EventCounter : ILogger
    {
        private readonly List<string> _stored = [];

        public IReadOnlyList<string> Stored
        {
            get
            {
                lock (_stored) return [.. _stored];
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id != 1003 || state is not IEnumerable<KeyValuePair<string, object?>> fields) return;
            lock (_stored) _stored.Add((string)fields.First(f => f.Key == "TrialId").Value!);
        }
    }
}
