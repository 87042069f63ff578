using Akka.Actor;
using Farm.Cluster.Coordinator;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Farm.Cluster.Sweeps;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>
/// The coordinator actor against requests and store faults that used to restart it (issue 16,
/// items 4-6): a restart re-queued every running trial, so those trials ran twice. Here a real
/// actor and store, with an inbox as the worker or client; no cluster.
/// </summary>
public sealed class CoordinatorFaultTests : IAsyncLifetime
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30); // bounds a hang only
    private static readonly WorkerId Worker = new("worker-1");

    private readonly TempDir _dir = new();
    private ActorSystem _system = null!;
    private ResultStore _store = null!;
    private readonly StoreHealth _health = new();
    private IActorRef _coordinator = null!;
    private SweepSpec _spec = null!;

    private string DbPath => Path.Combine(_dir.Path, "farm.db");

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("coordinator-faults", "akka.loglevel = ERROR");
        _store = new ResultStore(DbPath);
        _coordinator = _system.ActorOf(Props.Create(() => new CoordinatorActor(
            new CoordinatorOptions { DeadlineCheckInterval = TimeSpan.FromMilliseconds(100) }, _store, _health)));
        _spec = Specs.Parse(Specs.Small); // 4 trials
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _system.Terminate();
        _store.Dispose();
        _dir.Dispose();
    }

    private async Task<T> Ask<T>(object message) => Assert.IsType<T>(await _coordinator.Ask<object>(message, Answer));

    private async Task<StatusReply> Status() => await Ask<StatusReply>(new GetStatus(_spec.Id));

    /// <summary>Submits the small sweep and takes two of its four trials as a worker with two slots.</summary>
    private async Task<(Inbox Worker, IReadOnlyList<TrialTicket> Running)> SubmitAndTakeTwo()
    {
        await Ask<SweepAccepted>(new SubmitSweep(Specs.Small, RepoPaths.Sweeps));
        var worker = Inbox.Create(_system);
        worker.Send(_coordinator, new RequestWork(Worker, 2));
        var items = Assert.IsType<WorkItems>(await worker.ReceiveAsync(Answer));
        Assert.Equal(2, items.Tickets.Count);
        return (worker, items.Tickets);
    }

    private string Result(TrialId id, int padding = 0) =>
        Specs.FakeResult(_spec.Trials.First(t => t.Id == id), new string('x', padding));

    [Fact]
    public async Task ResultsForTrialsTheStoreDoesNotHold_AreAcknowledgedAndDropped_AndRunningTrialsStayRunning()
    {
        var (worker, running) = await SubmitAndTakeTwo();

        // A worker that outlived its coordinator's store resends results for trials this one never had.
        for (int i = 0; i < 20; i++)
        {
            var unknown = new TrialId($"{i:x16}");
            worker.Send(_coordinator, new TrialFinished(unknown, Worker, "{\"trial\":{\"id\":\"x\"}}"));
            Assert.Equal(new Ack(unknown), await worker.ReceiveAsync(Answer));
        }
        var lost = new TrialId("00000000000000ff");
        worker.Send(_coordinator, new TrialFailed(lost, Worker, "boom"));
        Assert.Equal(new Ack(lost), await worker.ReceiveAsync(Answer));
        // A result for a known trial but another configuration: refused, acknowledged, the trial failed.
        worker.Send(_coordinator, new TrialFinished(running[1].Id, Worker, Specs.FakeResult(_spec.Trials.First(t => t.Id != running[1].Id))));
        Assert.Equal(new Ack(running[1].Id), await worker.ReceiveAsync(Answer));

        // Nothing was re-queued (a restart would have put both running trials back): the one still
        // running stays so, and the next request gets the two never-dispatched trials, not it.
        var status = (await Status()).Sweeps.Single();
        Assert.Equal((1, 2, 1), (status.Running, status.Queued, status.Failed));
        worker.Send(_coordinator, new RequestWork(Worker, 4));
        var next = Assert.IsType<WorkItems>(await worker.ReceiveAsync(Answer));
        Assert.Equal(_spec.Trials.Select(t => t.Id).Except(running.Select(t => t.Id)), next.Tickets.Select(t => t.Id));
        Assert.Equal(1, _store.FindTrial(running[0].Id)!.Attempts);
    }

    [Fact]
    public async Task BadSubmissionsAndUnexpectedErrors_AreAnsweredAtOnce_AndTheCoordinatorCarriesOn()
    {
        var (worker, running) = await SubmitAndTakeTwo();

        // An envelope whose workload text is null (once a NullReferenceException and a restart).
        var nullText = await Ask<SweepRejected>(new SubmitSweep(Specs.Small, null, new Dictionary<string, string> { ["../micro/pt-clear.yaml"] = null! }));
        Assert.Contains("has no text", nullText.Error);
        Assert.Contains("no spec text", (await Ask<SweepRejected>(new SubmitSweep(null!))).Error);

        // Any unexpected error in a request: answered with the error, the actor is not restarted.
        _store.BeforeCommit = () => throw new InvalidOperationException("injected");
        var failed = await Ask<RequestFailed>(new CancelSweep(_spec.Id));
        Assert.False(failed.Unavailable);
        Assert.Contains("injected", failed.Error);
        _store.BeforeCommit = null;

        // The two trials dispatched before are still running and their results are taken once.
        Assert.Equal(2, (await Status()).Sweeps.Single().Running);
        foreach (var t in running)
        {
            worker.Send(_coordinator, new TrialFinished(t.Id, Worker, Result(t.Id)));
            Assert.Equal(new Ack(t.Id), await worker.ReceiveAsync(Answer));
        }
        Assert.Equal(2, (await Status()).Sweeps.Single().Done);
        Assert.All(running, t => Assert.Equal(1, _store.FindTrial(t.Id)!.Attempts));
    }

    [Fact]
    public async Task AFullStore_StopsDispatch_KeepsWhatIsStored_AndResumesWhenItTakesWritesAgain()
    {
        var (worker, running) = await SubmitAndTakeTwo();
        worker.Send(_coordinator, new TrialFinished(running[0].Id, Worker, Result(running[0].Id)));
        Assert.Equal(new Ack(running[0].Id), await worker.ReceiveAsync(Answer));

        // SQLITE_FULL, as a full disk gives it: the database may not grow by a page.
        _store.LimitPages(1);
        worker.Send(_coordinator, new TrialFinished(running[1].Id, Worker, Result(running[1].Id, padding: 64 * 1024)));
        var reply = await Status();
        Assert.Contains("disk is full", reply.StoreError);
        Assert.Equal(reply.StoreError, _health.Error);
        Assert.Equal((1, 1, 2), (reply.Sweeps.Single().Done, reply.Sweeps.Single().Running, reply.Sweeps.Single().Queued));
        Assert.Contains("disk is full", (await Ask<RequestFailed>(new SubmitSweep(Specs.Small, RepoPaths.Sweeps))).Error);

        // Dispatch has stopped: a request for work is held (nothing leaves the queue), the unstored result not acknowledged.
        worker.Send(_coordinator, new RequestWork(Worker, 2));
        Assert.Equal(2, (await Status()).Sweeps.Single().Queued);

        // Room again: the next probe finds the store writable, the held request gets the two queued trials.
        _store.LimitPages(1_000_000);
        var resumed = Assert.IsType<WorkItems>(await worker.ReceiveAsync(Answer));
        Assert.Equal(2, resumed.Tickets.Count);
        Assert.Null((await Status()).StoreError);
        Assert.Null(_health.Error);
        worker.Send(_coordinator, new TrialFinished(running[1].Id, Worker, Result(running[1].Id, padding: 64 * 1024))); // the worker's resend
        Assert.Equal(new Ack(running[1].Id), await worker.ReceiveAsync(Answer));
        Assert.Equal(2, (await Status()).Sweeps.Single().Done);
        Assert.All(_spec.Trials, t => Assert.Equal(1, _store.FindTrial(t.Id)!.Attempts));
    }

    [Fact]
    public async Task ADeletedDatabaseFile_StopsDispatch_AndEverythingStoredIsSavedBesideIt()
    {
        var (worker, running) = await SubmitAndTakeTwo();
        worker.Send(_coordinator, new TrialFinished(running[0].Id, Worker, Result(running[0].Id)));
        Assert.Equal(new Ack(running[0].Id), await worker.ReceiveAsync(Answer));

        File.Delete(DbPath);
        worker.Send(_coordinator, new TrialFinished(running[1].Id, Worker, Result(running[1].Id)));
        var reply = await Status();
        Assert.Contains("deleted, moved or replaced", reply.StoreError);
        Assert.NotNull(_health.Error);
        worker.Send(_coordinator, new RequestWork(Worker, 2));
        Assert.Equal(2, (await Status()).Sweeps.Single().Queued); // held: nothing dispatched

        // The copy holds the sweep and the result stored before the file went.
        string copy = Assert.Single(Directory.GetFiles(_dir.Path, "farm.db.recovered-*"), f => !f.EndsWith("-wal") && !f.EndsWith("-shm"));
        Assert.Contains(copy, reply.StoreError);
        await _system.Terminate();
        _store.Dispose();
        using var recovered = new ResultStore(copy);
        Assert.Equal(Result(running[0].Id), recovered.FindTrial(running[0].Id)!.ResultJson);
        Assert.Equal(1, recovered.Status(_spec.Id).Done);
    }
}

public sealed class StoreOpeningTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void AStoreIsHeldByOneProcessAtATime_ASecondOpenIsRefusedWithAClearError()
    {
        string db = Path.Combine(_dir.Path, "farm.db");
        using (var first = new ResultStore(db))
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            var e = Assert.Throws<StoreUnavailableException>(() => new ResultStore(db));
            // Refused after one busy wait of 5 s, not after Microsoft.Data.Sqlite's 30 s of retries (a bound on
            // the retries, not a speed: the wait itself is SQLite's busy_timeout).
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(20), $"refused after {waited.Elapsed}");
            Assert.Contains("another farm coordinator", e.Message);
            Assert.Contains(db, e.Message);
            // No -shm file: WAL's index lives in the process, not in a mapped file (no SIGBUS when the disk fills).
            Assert.False(File.Exists(db + "-shm"));
        }
        using var again = new ResultStore(db); // released when the first closed
    }

    [Fact]
    public void AFileThatIsNotAStore_IsRefusedAtOpen()
    {
        string db = Path.Combine(_dir.Path, "farm.db");
        File.WriteAllText(db, new string('x', 8192));
        var e = Assert.Throws<StoreUnavailableException>(() => new ResultStore(db));
        Assert.Contains("damaged or is not a farm store", e.Message);
    }
}
