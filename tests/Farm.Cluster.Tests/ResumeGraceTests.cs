using Akka.Actor;
using Farm.Cluster.Coordinator;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>
/// Trials a previous coordinator left running (docs/failure-behaviour.md, "A worker without a
/// coordinator rejoins"): the new coordinator leaves them to their workers, which may be rejoining
/// with the results, for the resume grace, and queues them again only after it. Queued at once, a
/// trial whose held result then arrived had already gone to another worker: run twice.
/// </summary>
public sealed class ResumeGraceTests : IDisposable
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30); // bounds a hang only

    private readonly TempDir _dir = new();
    private readonly ActorSystem _system = ActorSystem.Create("resume-grace", "akka.loglevel = ERROR");
    private readonly ResultStore _store;
    private readonly Sweeps.SweepSpec _spec = Specs.Parse(Specs.Small); // 4 trials
    private readonly IReadOnlyList<TrialTicket> _leftRunning;

    public ResumeGraceTests()
    {
        _store = new ResultStore(Path.Combine(_dir.Path, "farm.db"));
        _store.SubmitSweep(_spec);
        _leftRunning = _store.Dispatch(2, new WorkerId("old-worker")); // the previous coordinator's: running, 2 queued
    }

    public void Dispose()
    {
        _system.Terminate().Wait(Answer);
        _store.Dispose();
        _dir.Dispose();
    }

    private IActorRef Coordinator(TimeSpan grace) => _system.ActorOf(Props.Create(() => new CoordinatorActor(new CoordinatorOptions
    {
        LeftRunning = _store.RunningTrials(),
        ResumeGrace = grace,
        DeadlineCheckInterval = TimeSpan.FromMilliseconds(100),
    }, _store, null, null)));

    [Fact]
    public async Task WithinTheGrace_TheyAreNotDispatchedAgain_AndAHeldResultIsStoredOnItsOnlyAttempt()
    {
        var coordinator = Coordinator(TimeSpan.FromHours(1)); // never runs out in this test
        Assert.Equal(_leftRunning.Select(t => (t.Id, (WorkerId?)new WorkerId("old-worker"))), _store.RunningTrials());

        var worker = Inbox.Create(_system);
        worker.Send(coordinator, new RequestWork(new WorkerId("rejoined"), 4));
        var given = Assert.IsType<WorkItems>(await worker.ReceiveAsync(Answer)).Tickets.Select(t => t.Id).ToList();
        Assert.Equal(_spec.Trials.Select(t => t.Id).Except(_leftRunning.Select(t => t.Id)), given); // the 2 queued only

        var held = _leftRunning[0].Id;
        worker.Send(coordinator, new TrialFinished(held, new WorkerId("rejoined"), Specs.FakeResult(_spec.Trials.First(t => t.Id == held))));
        Assert.Equal(new Ack(held), await worker.ReceiveAsync(Answer));
        var record = _store.FindTrial(held)!;
        Assert.Equal(("done", 1), (record.Status, record.Attempts));
        Assert.Equal("running", _store.FindTrial(_leftRunning[1].Id)!.Status); // still left to its worker
    }

    [Fact]
    public async Task AfterTheGrace_TheUnreportedOnesAreQueuedAgain_AndDispatched()
    {
        var coordinator = Coordinator(TimeSpan.Zero);
        var worker = Inbox.Create(_system);
        var id = new WorkerId("another");
        // Asked until both left-running trials come back: the deadline check queues them, and a held request gets them.
        var got = new HashSet<TrialId>();
        while (!_leftRunning.All(t => got.Contains(t.Id)))
        {
            worker.Send(coordinator, new RequestWork(id, 4)); // held while the queue is empty
            foreach (var t in Assert.IsType<WorkItems>(await worker.ReceiveAsync(Answer)).Tickets) got.Add(t.Id);
        }
        Assert.Equal(4, got.Count);
        Assert.All(_leftRunning, t => Assert.Equal(("running", 2), (_store.FindTrial(t.Id)!.Status, _store.FindTrial(t.Id)!.Attempts)));
    }
}
