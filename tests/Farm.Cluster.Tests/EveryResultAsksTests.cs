using Akka.Actor;
using Farm.Cluster.Coordinator;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Farm.Cluster.Worker;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>
/// A worker of several slots sends one message a trial: every result that finds a slot free carries a
/// request, also while an earlier result's answer is on its way, and no request goes alone while such an
/// answer is awaited. The coordinator cuts each request to the worker's slots less the tickets out with
/// it that it has not reported on, so asking early never gives a worker more trials than slots
/// (docs/cluster.md, "Every result asks").
/// </summary>
public sealed class EveryResultAsksTests : IDisposable
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30); // bounds a hang only

    private readonly TempDir _dir = new();
    private readonly ActorSystem _system = ActorSystem.Create("every-result-asks", "akka.loglevel = ERROR");
    private readonly ResultStore _store;
    private readonly Sweeps.SweepSpec _spec = Specs.Parse(Specs.Small.Replace("seeds: 2", "seeds: 4")); // 2 policies x 4 seeds: 8 trials

    public EveryResultAsksTests() => _store = new ResultStore(Path.Combine(_dir.Path, "farm.db"));

    public void Dispose()
    {
        _system.Terminate().Wait(Answer);
        _store.Dispose();
        _dir.Dispose();
    }

    private string Result(TrialId trial) => Specs.FakeResult(_spec.Trials.Single(t => t.Id == trial));

    private async Task<int> Running(IActorRef coordinator) =>
        (await coordinator.Ask<StatusReply>(new GetStatus(_spec.Id), Answer)).Sweeps.Single().Running;

    [Fact]
    public async Task ARequestCarriedWhileAnAnswerIsOnItsWay_IsCutToTheSlotsNotCovered()
    {
        _store.SubmitSweep(_spec);
        var coordinator = _system.ActorOf(Props.Create(() => new CoordinatorActor(new CoordinatorOptions(), _store, null, null)));
        var a = new WorkerId("worker-a");
        var inbox = Inbox.Create(_system);

        coordinator.Tell(new RequestWork(a, 2), inbox.Receiver);
        var first = Assert.IsType<WorkItems>(await inbox.ReceiveAsync(Answer)).Tickets.Select(t => t.Id).ToList();
        Assert.Equal(2, first.Count);

        // t1's result asks for its slot: t3 comes with t1's acknowledgement.
        coordinator.Tell(new TrialFinished(first[0], a, Result(first[0]), new RequestWork(a, 1)), inbox.Receiver);
        var answer1 = Assert.IsType<WorkItems>(await inbox.ReceiveAsync(Answer));
        Assert.Equal((first[0], 1), (answer1.Acked!.Value, answer1.Tickets.Count));

        // t2 finished before the worker heard that answer, so it asks for both slots. Two slots less t3,
        // out with it and not reported on: one trial, though 5 are still queued (8 - 3 taken).
        coordinator.Tell(new TrialFinished(first[1], a, Result(first[1]), new RequestWork(a, 2)), inbox.Receiver);
        var answer2 = Assert.IsType<WorkItems>(await inbox.ReceiveAsync(Answer));
        Assert.Equal((first[1], 1), (answer2.Acked!.Value, answer2.Tickets.Count));
        Assert.Equal(2, await Running(coordinator)); // t3 and t4: the worker's two slots

        // A result asking while both slots are covered (t3 reported, t4 still out, and a stale count of 2):
        // the slot t3 frees is the only one; the request never covers t4's slot twice.
        var t3 = answer1.Tickets.Single().Id;
        coordinator.Tell(new TrialFinished(t3, a, Result(t3), new RequestWork(a, 2)), inbox.Receiver);
        var answer3 = Assert.IsType<WorkItems>(await inbox.ReceiveAsync(Answer));
        Assert.Equal((t3, 1), (answer3.Acked!.Value, answer3.Tickets.Count));
        Assert.Equal(2, await Running(coordinator));
    }

    [Fact]
    public async Task AWorkerOfTwoSlots_AsksWithEachResult_AndNeverAloneWhileAnAnswerIsAwaited()
    {
        var coordinator = Inbox.Create(_system);
        var id = new WorkerId("worker-two-slots");
        var worker = _system.ActorOf(Props.Create(() => new WorkerActor(id, 2, coordinator.Receiver, TimeSpan.FromMinutes(10), null, TicketBatching.Off)));
        Assert.Equal(new RequestWork(id, 2, slots: 2, keeps: 2), await coordinator.ReceiveAsync(Answer)); // the first poll

        var trials = _spec.Trials;
        coordinator.Send(worker, new WorkItems([trials[0].Ticket, trials[1].Ticket]));
        // Neither result is answered yet: both carry a request (the second while the first's is unanswered).
        var r1 = Assert.IsType<TrialFinished>(await coordinator.ReceiveAsync(Answer));
        var r2 = Assert.IsType<TrialFinished>(await coordinator.ReceiveAsync(Answer));
        Assert.NotNull(r1.Next);
        Assert.NotNull(r2.Next);

        // The first answer brings one trial; one slot is still free, but the second result's request is
        // still answered: no request alone. The next messages are the two trials' results, each asking again.
        coordinator.Send(worker, new WorkItems([trials[2].Ticket], Acked: r1.Trial));
        coordinator.Send(worker, new WorkItems([trials[3].Ticket], Acked: r2.Trial));
        var r3 = Assert.IsType<TrialFinished>(await coordinator.ReceiveAsync(Answer));
        var r4 = Assert.IsType<TrialFinished>(await coordinator.ReceiveAsync(Answer));
        Assert.Equal(new[] { trials[2].Id.Value, trials[3].Id.Value }.Order(), new[] { r3.Trial.Value, r4.Trial.Value }.Order());
        Assert.NotNull(r3.Next);
        Assert.NotNull(r4.Next);

        // Both answered with an acknowledgement only (nothing queued: the requests held, the later one
        // kept). The held request's answer fills both slots: the next messages are again the results.
        coordinator.Send(worker, new Ack(r3.Trial));
        coordinator.Send(worker, new Ack(r4.Trial));
        coordinator.Send(worker, new WorkItems([trials[4].Ticket, trials[5].Ticket]));
        var r5 = Assert.IsType<TrialFinished>(await coordinator.ReceiveAsync(Answer));
        var r6 = Assert.IsType<TrialFinished>(await coordinator.ReceiveAsync(Answer));
        Assert.Equal(new[] { trials[4].Id.Value, trials[5].Id.Value }.Order(), new[] { r5.Trial.Value, r6.Trial.Value }.Order());
        Assert.Equal(new RequestWork(id, 2, slots: 2, keeps: 2), r6.Next); // the second result finds both slots free
    }
}
