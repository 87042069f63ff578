using Akka.Actor;
using Farm.Actors;
using Farm.Cluster.Coordinator;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Farm.Cluster.Worker;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>
/// Short trials travel in batches (protocol 3, docs/cluster.md): a worker whose trials are short keeps more tickets
/// than slots and sends their results several to a message; the coordinator stores a batch and takes the next
/// tickets in one transaction and acknowledges every result in one answer; a held request is cut to the worker's
/// slots, whatever depth its last trials earned.
/// </summary>
public sealed class ShortTrialBatchTests : IDisposable
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(60); // bounds a hang only

    private readonly TempDir _dir = new();
    private readonly ActorSystem _system = ActorSystem.Create("short-trial-batches", "akka.loglevel = ERROR");
    private readonly ResultStore _store;
    private readonly Sweeps.SweepSpec _spec = Specs.Parse(Specs.Small.Replace("seeds: 2", "seeds: 5")); // 2 policies x 5 seeds: 10 trials

    public ShortTrialBatchTests() => _store = new ResultStore(Path.Combine(_dir.Path, "farm.db"));

    public void Dispose()
    {
        _system.Terminate().Wait(Answer);
        _store.Dispose();
        _dir.Dispose();
    }

    private string Result(TrialId trial) => Specs.FakeResult(_spec.Trials.Single(t => t.Id == trial));

    private TrialFinished Finished(TrialId trial, WorkerId worker) => new(trial, worker, Result(trial));

    private IActorRef Coordinator() => _system.ActorOf(Props.Create(() => new CoordinatorActor(new CoordinatorOptions(), _store, null, null)));

    /// <summary>A worker of one slot, in a process that has run the trial once (compiled: the first trial's time earns the
    /// depth), given that trial as its first ticket: its first request and that trial's result, which carries the next.</summary>
    private async Task<(Inbox Coordinator, IActorRef Worker, WorkerId Id, RequestWork First, TrialFinished R0)> WorkerAfterOneShortTrial(
        string name, TicketBatching batching)
    {
        await TrialRunner.RunAsync(_spec.Trials[0].Spec, _system);
        var coordinator = Inbox.Create(_system);
        var id = new WorkerId(name);
        var worker = _system.ActorOf(Props.Create(() => new WorkerActor(id, 1, coordinator.Receiver, TimeSpan.FromMinutes(10), null, batching)));
        var first = Assert.IsType<RequestWork>(await coordinator.ReceiveAsync(Answer));
        coordinator.Send(worker, new WorkItems([_spec.Trials[0].Ticket]));
        var r0 = Assert.IsType<TrialFinished>(await coordinator.ReceiveAsync(Answer));
        return (coordinator, worker, id, first, r0);
    }

    /// <summary>A pt-clear trial of <paramref name="rounds"/> rounds: seconds long, against the others' milliseconds.</summary>
    private static Sweeps.SweepTrial LongTrial(int rounds) =>
        Specs.Parse(Specs.Small.Replace("seeds: 2", "seeds: 1").Replace("axes:", $"base: {{ workload.rounds: {rounds} }}\naxes:")).Trials[0];

    [Fact]
    public void TheDepth_IsAMeanOfTheTrialsTimes_ButOneTrialOfTheWindowSetsIt()
    {
        var depth = new TicketDepth(new TicketBatching(TimeSpan.FromMilliseconds(50), 16));
        Assert.Equal(1, depth.Current); // no trial yet: one a slot
        depth.Observe(TimeSpan.FromMilliseconds(1));
        Assert.Equal(16, depth.Current); // 50 a window, at most 16
        depth.Observe(TimeSpan.FromMilliseconds(21));
        Assert.Equal(10, depth.Current); // a longer trial: a fifth of the way (5 ms)
        depth.Observe(TimeSpan.FromMilliseconds(1));
        Assert.Equal(11, depth.Current); // a shorter one: a fifth of the way (4.2 ms)
        depth.Running(TimeSpan.FromMilliseconds(30));
        Assert.Equal(11, depth.Current); // one running for less than the window says nothing yet
        depth.Observe(TimeSpan.FromMilliseconds(50));
        Assert.Equal(1, depth.Current); // a trial of the window: one a slot at once
        depth.Reset();
        depth.Observe(TimeSpan.FromMilliseconds(5));
        Assert.Equal(10, depth.Current); // after a reset the first trial sets the estimate
        depth.Running(TimeSpan.FromMilliseconds(200));
        Assert.Equal(1, depth.Current); // one running for 0.2 s: at least that long

        var off = new TicketDepth(TicketBatching.Off);
        off.Observe(TimeSpan.FromTicks(1));
        Assert.Equal(1, off.Current);
    }

    [Fact]
    public async Task ABatchOfResults_IsStoredWithTheNextTickets_AndOneAnswerAcknowledgesEveryResult()
    {
        _store.SubmitSweep(_spec);
        var coordinator = Coordinator();
        var a = new WorkerId("worker-a");
        var inbox = Inbox.Create(_system);
        coordinator.Tell(new RequestWork(a, 4, slots: 1), inbox.Receiver);
        var first = Assert.IsType<WorkItems>(await inbox.ReceiveAsync(Answer)).Tickets.Select(t => t.Id).ToList();
        Assert.Equal(4, first.Count);

        // Three results and a request for three: four tickets asked for at most, one not reported on: three.
        coordinator.Tell(new TrialsFinished(first.Take(3).Select(t => Finished(t, a)).ToList(), new RequestWork(a, 3, slots: 1)), inbox.Receiver);
        var answer = Assert.IsType<WorkItems>(await inbox.ReceiveAsync(Answer));
        Assert.Equal(first.Take(3), answer.AllAcked());
        Assert.Equal(3, answer.Tickets.Count);
        Assert.All(first.Take(3), t => Assert.Equal("done", _store.FindTrial(t)!.Status));
        Assert.All(answer.Tickets, t => Assert.Equal("running", _store.FindTrial(t.Id)!.Status));

        // A batch without a request: one acknowledgement for all.
        var more = answer.Tickets.Select(t => t.Id).Prepend(first[3]).ToList();
        coordinator.Tell(new TrialsFinished(more.Select(t => Finished(t, a)).ToList()), inbox.Receiver);
        var ack = Assert.IsType<Ack>(await inbox.ReceiveAsync(Answer));
        Assert.Equal(more, ack.All());
        Assert.All(more, t => Assert.Equal("done", _store.FindTrial(t)!.Status));
    }

    [Fact]
    public async Task ABatchWithARefusedResult_StoresTheOthers_FailsThatTrial_AndStillAnswersTheRequest()
    {
        _store.SubmitSweep(_spec);
        var coordinator = Coordinator();
        var a = new WorkerId("worker-a");
        var inbox = Inbox.Create(_system);
        coordinator.Tell(new RequestWork(a, 3, slots: 1), inbox.Receiver);
        var t = Assert.IsType<WorkItems>(await inbox.ReceiveAsync(Answer)).Tickets.Select(x => x.Id).ToList();

        // The middle result is another configuration's: the batch's transaction changes nothing, each is then stored alone.
        var wrong = new TrialFinished(t[1], a, Result(t[0]));
        coordinator.Tell(new TrialsFinished([Finished(t[0], a), wrong, Finished(t[2], a)], new RequestWork(a, 3, slots: 1)), inbox.Receiver);
        Assert.Equal(t, Assert.IsType<Ack>(await inbox.ReceiveAsync(Answer)).All());
        Assert.Equal(3, Assert.IsType<WorkItems>(await inbox.ReceiveAsync(Answer)).Tickets.Count); // the request, on its own
        Assert.Equal(("done", "failed", "done"), (_store.FindTrial(t[0])!.Status, _store.FindTrial(t[1])!.Status, _store.FindTrial(t[2])!.Status));
        Assert.Contains("is for configuration", _store.FindTrial(t[1])!.Error);
    }

    [Fact]
    public async Task ARequestHeldForWork_IsCutToTheWorkersSlots()
    {
        var coordinator = Coordinator();
        var a = new WorkerId("worker-a");
        var inbox = Inbox.Create(_system);
        // A worker of 2 slots whose last trials were short asks for 32: nothing queued, the request is held.
        coordinator.Tell(new RequestWork(a, 32, slots: 2), inbox.Receiver);
        var accepted = await coordinator.Ask<SweepAccepted>(new SubmitSweep(Specs.Small.Replace("seeds: 2", "seeds: 5"), RepoPaths.Sweeps), Answer);
        Assert.Equal(10, accepted.ToRun);
        // The sweep's trials may be long: two tickets, not 10.
        Assert.Equal(2, Assert.IsType<WorkItems>(await inbox.ReceiveAsync(Answer)).Tickets.Count);
        Assert.Equal(2, (await coordinator.Ask<StatusReply>(new GetStatus(accepted.Sweep), Answer)).Sweeps.Single().Running);
    }

    /// <summary>A worker of one slot whose trials are short (a window of 10 s: 8 tickets, the most) sends four results in one
    /// message once four of its eight tickets have run (the other four keep its slot busy while the answer comes), and the
    /// next four together again, not one by one while that answer is awaited.</summary>
    [Fact]
    public async Task AWorkerOfShortTrials_KeepsTicketsBeyondItsSlot_AndSendsHalfOfThemAsABatch()
    {
        var (coordinator, worker, id, first, r0) = await WorkerAfterOneShortTrial("worker-short-trials", new TicketBatching(TimeSpan.FromSeconds(10), 8));
        Assert.Equal(new RequestWork(id, 1, slots: 1, keeps: 1), first); // nothing run yet: one a slot
        Assert.Equal(new RequestWork(id, 8, slots: 1, keeps: 8), r0.Next); // a short trial: eight tickets a slot

        var trials = _spec.Trials;

        coordinator.Send(worker, new WorkItems(trials.Skip(1).Take(8).Select(t => t.Ticket).ToList(), Acked: r0.Trial));
        var batch = Assert.IsType<TrialsFinished>(await coordinator.ReceiveAsync(Answer));
        Assert.Equal(trials.Skip(1).Take(4).Select(t => t.Id), batch.Results.Select(r => r.Trial));
        Assert.All(batch.Results, r => Assert.Null(r.Next));
        Assert.Equal(new RequestWork(id, 4, slots: 1, keeps: 8), batch.Next);
        // The answer has not come: the other four run, and their results go together too (half what it keeps, and nothing left).
        var rest = Assert.IsType<TrialsFinished>(await coordinator.ReceiveAsync(Answer));
        Assert.Equal(trials.Skip(5).Take(4).Select(t => t.Id), rest.Results.Select(r => r.Trial));
        Assert.Equal(new RequestWork(id, 8, slots: 1, keeps: 8), rest.Next);
    }

    /// <summary>A result waits for its batch at most the window: here a short trial's result goes out while a long trial
    /// still runs (the window is 1 s, the long trial some seconds). Once the long one has run, the worker keeps one ticket a
    /// slot again: it gives back the one it kept beyond (the last to start) and sends each result at once.</summary>
    [Fact]
    public async Task AResultWaitsForItsBatchAtMostTheWindow_AndTicketsKeptGoBackWhenATrialTurnsOutLong()
    {
        var (coordinator, worker, _, _, r0) = await WorkerAfterOneShortTrial("worker-window", new TicketBatching(TimeSpan.FromSeconds(1), 4));
        Assert.Equal(4, r0.Next!.FreeSlots); // a short trial (under a quarter of the window) earns the most depth

        // A short trial, a long one, two short ones (the four asked for): after the first, one runs and two wait.
        var trials = _spec.Trials;
        var longTrial = LongTrial(60000);
        coordinator.Send(worker, new WorkItems([trials[1].Ticket, longTrial.Ticket, trials[2].Ticket, trials[3].Ticket], Acked: r0.Trial));
        var first = Assert.IsType<TrialFinished>(await coordinator.ReceiveAsync(Answer)); // by the window, not with the long trial's
        Assert.Equal(trials[1].Id, first.Trial);
        var returned = Assert.IsType<TicketsReturned>(await coordinator.ReceiveAsync(Answer));
        Assert.Equal([trials[3].Id], returned.Trials); // trials[2] started when the long one ended
        var second = Assert.IsType<TrialFinished>(await coordinator.ReceiveAsync(Answer));
        Assert.Equal(longTrial.Id, second.Trial);
        Assert.Equal(trials[2].Id, Assert.IsType<TrialFinished>(await coordinator.ReceiveAsync(Answer)).Trial); // one a slot again: at once
    }

    /// <summary>A node that stops (CoordinatedShutdown's task) gives back the tickets it kept unstarted, asks for nothing with the
    /// results it still sends, and starts nothing more.</summary>
    [Fact]
    public async Task AStoppingWorker_GivesBackWhatItKept_AndAsksForNothing()
    {
        var (coordinator, worker, _, _, r0) = await WorkerAfterOneShortTrial("worker-stopping", new TicketBatching(TimeSpan.FromSeconds(10), 4));
        Assert.Equal(4, r0.Next!.FreeSlots);

        var trials = _spec.Trials;
        var longTrial = LongTrial(30000);
        coordinator.Send(worker, new WorkItems([longTrial.Ticket, trials[1].Ticket, trials[2].Ticket, trials[3].Ticket]));
        await worker.Ask<Akka.Done>(WorkerActor.SendGathered.Instance, Answer);
        var returned = Assert.IsType<TicketsReturned>(await coordinator.ReceiveAsync(Answer));
        Assert.Equal(trials.Skip(1).Take(3).Select(t => t.Id), returned.Trials);
        var last = Assert.IsType<TrialFinished>(await coordinator.ReceiveAsync(Answer)); // the long trial, once it ends
        Assert.Equal((longTrial.Id, (RequestWork?)null), (last.Trial, last.Next));
        coordinator.Send(worker, new WorkItems([trials[4].Ticket])); // an answer to an earlier request: given back too
        Assert.Equal([trials[4].Id], Assert.IsType<TicketsReturned>(await coordinator.ReceiveAsync(Answer)).Trials);
    }

    /// <summary>Tickets for a request held while the queue was empty may be another sweep's: the worker starts again at one a
    /// slot, so it asks for no more before the first of them has run.</summary>
    [Fact]
    public async Task TicketsForAHeldRequest_StartTheDepthAgain()
    {
        var (coordinator, worker, _, _, r0) = await WorkerAfterOneShortTrial("worker-held", new TicketBatching(TimeSpan.FromSeconds(10), 8));
        Assert.Equal(8, r0.Next!.FreeSlots);
        var trials = _spec.Trials;

        coordinator.Send(worker, new Ack(r0.Trial)); // nothing queued: the request is held
        coordinator.Send(worker, new WorkItems([trials[1].Ticket], Held: true)); // then answered with one ticket
        var next = Assert.IsType<TrialFinished>(await coordinator.ReceiveAsync(Answer)); // not a request for seven more first
        Assert.Equal(trials[1].Id, next.Trial);
    }

    [Fact]
    public async Task TicketsGivenBack_AreQueuedAgainAnAttemptLess_ForAnotherWorker()
    {
        _store.SubmitSweep(_spec);
        var coordinator = Coordinator();
        var (a, b) = (new WorkerId("worker-a"), new WorkerId("worker-b"));
        var (inboxA, inboxB) = (Inbox.Create(_system), Inbox.Create(_system));
        coordinator.Tell(new RequestWork(a, 10, slots: 1, keeps: 10), inboxA.Receiver);
        var all = Assert.IsType<WorkItems>(await inboxA.ReceiveAsync(Answer)).Tickets.Select(t => t.Id).ToList();
        Assert.Equal(10, all.Count);
        coordinator.Tell(new RequestWork(b, 1, slots: 1, keeps: 1), inboxB.Receiver); // held: nothing queued

        // A's first trial was long: it keeps one and gives nine back; B, waiting, gets one of them, and the store has them queued.
        coordinator.Tell(new TicketsReturned(a, all.Skip(1).ToList()), inboxA.Receiver);
        var forB = Assert.IsType<WorkItems>(await inboxB.ReceiveAsync(Answer));
        Assert.True(forB.Held);
        Assert.Contains(Assert.Single(forB.Tickets).Id, all.Skip(1));
        var status = (await coordinator.Ask<StatusReply>(new GetStatus(_spec.Id), Answer)).Sweeps.Single();
        Assert.Equal((2, 8), (status.Running, status.Queued));
        Assert.All(all.Skip(1).Where(t => t != forB.Tickets[0].Id), t => Assert.Equal((0, "queued"), (_store.FindTrial(t)!.Attempts, _store.FindTrial(t)!.Status)));

        // A request that says A keeps one now, with one out: nothing more for A (the most it asked for before was 10).
        coordinator.Tell(new RequestWork(a, 1, slots: 1, keeps: 1), inboxA.Receiver);
        Assert.Equal(2, (await coordinator.Ask<StatusReply>(new GetStatus(_spec.Id), Answer)).Sweeps.Single().Running);
    }
}
