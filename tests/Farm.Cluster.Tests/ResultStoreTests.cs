using Farm.Actors;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Farm.Cluster.Sweeps;
using Xunit;

namespace Farm.Cluster.Tests;

public sealed class ResultStoreTests : IDisposable
{
    private static readonly WorkerId W1 = new("worker-1");
    private static readonly WorkerId W2 = new("worker-2");

    private readonly TempDir _dir = new();
    private readonly ResultStore _store;

    public ResultStoreTests() => _store = new ResultStore(DbPath);

    private string DbPath => Path.Combine(_dir.Path, "db", "farm.db");

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    /// <summary>What a coordinator and its workers do: dispatch, run (here: a shaped result), store.</summary>
    private void FinishAll(SweepSpec spec)
    {
        foreach (var ticket in _store.Dispatch(1000, W1))
            Assert.True(_store.StoreResult(ticket.Id, Specs.FakeResult(spec.Trials.First(t => t.Id == ticket.Id))));
    }

    /// <summary>
    /// The coordinator actor owns the store, but tests read it beside the actor (which reads it too, on its
    /// own thread, when it starts and on its timers): transactions from two threads wait for each other
    /// rather than meet on the one connection ("not reentrant", or statements of one inside the other's).
    /// </summary>
    [Fact]
    public void TransactionsFromTwoThreads_TakeTurns()
    {
        var spec = Specs.Parse(Specs.Small);
        _store.SubmitSweep(spec);
        var running = _store.Dispatch(2, W1);
        var expected = running.Select(t => (t.Id, (WorkerId?)W1)).ToList();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        using var start = new Barrier(2);
        void Reads()
        {
            start.SignalAndWait();
            for (int i = 0; i < 2000; i++)
            {
                try
                {
                    Assert.Equal(expected, _store.RunningTrials());
                    Assert.Equal("running", _store.FindTrial(running[0].Id)!.Status);
                }
                catch (Exception e)
                {
                    failures.Enqueue(e);
                    return;
                }
            }
        }
        var threads = new[] { new Thread(Reads), new Thread(Reads) };
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Empty(failures);
    }

    [Fact]
    public void Submit_QueuesEveryDistinctTrial_InSweepOrder()
    {
        var spec = SweepSpec.Load(Path.Combine(RepoPaths.Sweeps, "seed-ablation.yaml"));
        var r = _store.SubmitSweep(spec);
        int distinct = spec.Trials.Select(t => t.Id).Distinct().Count();
        Assert.Equal(new SubmitResult(spec.Id, "seed-ablation", distinct, distinct, 0, false), r);
        Assert.Equal(spec.Trials.Select(t => t.Id).Distinct().Take(5), _store.NextQueued(5).Select(t => t.Id));
        var status = _store.Status(spec.Id);
        Assert.Equal((distinct, distinct, 0, 0.0), (status.Trials, status.Queued, status.Done, status.Progress));
        Assert.Equal(spec.Trials.Count, _store.Results(spec.Id).Count); // every position, shared trials included
        Assert.Equal(spec.Trials[0].Ticket, _store.NextQueued(1).Single());
    }

    [Fact]
    public void SubmittingTwice_AddsNothing_AndResubmittingAFinishedSweep_RunsZero()
    {
        var spec = Specs.Parse(Specs.Small);
        Assert.Equal(4, _store.SubmitSweep(spec).ToRun);
        var again = _store.SubmitSweep(Specs.Parse(Specs.Small));
        Assert.Equal((0, 4, true), (again.ToRun, again.Reused, again.Resubmitted));
        Assert.Equal(4, _store.NextQueued(100).Count);
        Assert.Single(_store.ListSweeps());

        FinishAll(spec);
        var finished = _store.SubmitSweep(spec);
        Assert.Equal((0, 4), (finished.ToRun, finished.Reused));
        Assert.Empty(_store.NextQueued(100));
        Assert.True(_store.Status(spec.Id).Complete);
    }

    [Fact]
    public void ASweepSharingTrials_StoresThemOnce_AndQueuesOnlyWhatIsNew()
    {
        var small = Specs.Parse(Specs.Small);
        _store.SubmitSweep(small);
        FinishAll(small);
        // Same workload and policies, one more seed: 4 of its 6 trials are done already.
        var bigger = Specs.Parse(Specs.Small.Replace("seeds: 2", "seeds: 3").Replace("name: small", "name: bigger"));
        var r = _store.SubmitSweep(bigger);
        Assert.Equal((6, 2, 4), (r.Trials, r.ToRun, r.Reused));
        Assert.Equal(2, _store.NextQueued(100).Count);
        Assert.Equal(["small", "bigger"], _store.ListSweeps().Select(s => s.Name));
        Assert.Equal(4, _store.Status(bigger.Id).Done);
    }

    [Fact]
    public void StoringAResultTwice_KeepsTheFirst()
    {
        var spec = Specs.Parse(Specs.Small);
        _store.SubmitSweep(spec);
        var trial = spec.Trials[0];
        Assert.True(_store.MarkRunning(trial.Id, W1));
        Assert.True(_store.StoreResult(trial.Id, Specs.FakeResult(trial, "first")));
        Assert.False(_store.StoreResult(trial.Id, Specs.FakeResult(trial, "second")));
        Assert.False(_store.MarkFailed(trial.Id, "late failure"));
        Assert.False(_store.MarkRunning(trial.Id, W2));
        var record = _store.FindTrial(trial.Id)!;
        Assert.Equal((TrialStatus.Done, 1, W1), (record.Status, record.Attempts, record.Worker));
        Assert.Contains("\"first\"", record.ResultJson);
        Assert.Null(record.Error);
    }

    [Fact]
    public void AResultMustBeForTheTrialsConfiguration()
    {
        var spec = Specs.Parse(Specs.Small);
        _store.SubmitSweep(spec);
        var e = Assert.Throws<StoreException>(() => _store.StoreResult(spec.Trials[0].Id, Specs.FakeResult(spec.Trials[1])));
        Assert.Contains($"the result is for configuration {spec.Trials[1].ConfigId}", e.Message);
        Assert.Throws<StoreException>(() => _store.StoreResult(spec.Trials[0].Id, "not json"));
        Assert.Throws<StoreException>(() => _store.StoreResult(spec.Trials[0].Id, "[1, 2]"));
        Assert.Throws<UnknownTrialException>(() => _store.StoreResult(new TrialId("0000000000000000"), "{}"));
        Assert.Equal(TrialStatus.Queued, _store.FindTrial(spec.Trials[0].Id)!.Status);
    }

    [Fact]
    public void FailedTrials_AreQueuedAgainOnResubmit()
    {
        var spec = Specs.Parse(Specs.Small);
        _store.SubmitSweep(spec);
        var tickets = _store.Dispatch(4, W1);
        _store.StoreResult(tickets[0].Id, Specs.FakeResult(spec.Trials[0]));
        Assert.True(_store.MarkFailed(tickets[1].Id, "worker could not rebuild the ticket"));
        Assert.Equal("worker could not rebuild the ticket", _store.FindTrial(tickets[1].Id)!.Error);
        var status = _store.Status(spec.Id);
        Assert.Equal((1, 1, 2), (status.Done, status.Failed, status.Running));

        var r = _store.SubmitSweep(spec);
        Assert.Equal((1, 3), (r.ToRun, r.Reused)); // the failed one; the done and the two running are reused
        Assert.Equal([tickets[1].Id], _store.NextQueued(10).Select(t => t.Id));
        Assert.Null(_store.FindTrial(tickets[1].Id)!.Error);
    }

    [Fact]
    public void Restart_RequeuesRunningTrials_AndNeverRunsADoneOneAgain()
    {
        var spec = Specs.Parse(Specs.Small);
        _store.SubmitSweep(spec);
        var tickets = _store.Dispatch(3, W1);
        _store.StoreResult(tickets[0].Id, Specs.FakeResult(spec.Trials[0]));
        _store.Dispose();

        using var restarted = new ResultStore(DbPath);
        Assert.Equal(2, restarted.RequeueRunning());
        Assert.Equal([tickets[1].Id, tickets[2].Id, spec.Trials[3].Id], restarted.NextQueued(10).Select(t => t.Id));
        Assert.Equal(1, restarted.Status(spec.Id).Done);
        Assert.Equal(0, restarted.SubmitSweep(spec).ToRun);
        Assert.Equal(1, restarted.FindTrial(tickets[1].Id)!.Attempts); // counted when it was dispatched, not when requeued
    }

    [Fact]
    public void AWorkerThatLeaves_HasOnlyItsTrialsRequeued()
    {
        var spec = Specs.Parse(Specs.Small);
        _store.SubmitSweep(spec);
        var mine = _store.Dispatch(2, W1);
        var theirs = _store.Dispatch(2, W2);
        Assert.Equal(2, _store.RequeueWorker(W1));
        Assert.Equal(mine.Select(t => t.Id), _store.NextQueued(10).Select(t => t.Id));
        Assert.All(theirs, t => Assert.Equal(TrialStatus.Running, _store.FindTrial(t.Id)!.Status));
        Assert.Equal(1, _store.Requeue([theirs[0].Id, theirs[0].Id, mine[0].Id])); // mine[0] is queued already
        Assert.Equal(2, _store.Dispatch(10, W2).Count(t => mine.Contains(t)));
        Assert.Equal(2, _store.FindTrial(mine[0].Id)!.Attempts);
    }

    [Fact]
    public void Cancel_StopsQueuedAndRunningTrials_ThatNoLiveSweepNeeds()
    {
        var small = Specs.Parse(Specs.Small);
        var other = Specs.Parse(Specs.Small.Replace("seeds: 2", "seeds: 1").Replace("name: small", "name: other"));
        _store.SubmitSweep(small);
        _store.SubmitSweep(other); // shares the seed-1 trials
        var first = _store.Dispatch(1, W1).Single();
        _store.StoreResult(first.Id, Specs.FakeResult(small.Trials[0]));

        Assert.Equal(2, _store.Cancel(small.Id)); // the seed-2 trials; seed-1 ones are other's too
        var status = _store.Status(small.Id);
        Assert.True(status.Cancelled);
        Assert.Equal((1, 1, 2), (status.Done, status.Queued, status.CancelledTrials));
        Assert.Equal(0, _store.Cancel(small.Id));
        Assert.Throws<UnknownSweepException>(() => _store.Cancel(new SweepId("ffffffffffffffff")));

        // Resubmitting a cancelled sweep makes it live and queues its cancelled trials again.
        var r = _store.SubmitSweep(small);
        Assert.Equal((2, 2), (r.ToRun, r.Reused));
        Assert.False(_store.Status(small.Id).Cancelled);
    }

    [Fact]
    public void AResultForACancelledTrial_IsStillStored()
    {
        var spec = Specs.Parse(Specs.Small);
        _store.SubmitSweep(spec);
        var running = _store.Dispatch(1, W1).Single();
        _store.Cancel(spec.Id);
        Assert.Equal(TrialStatus.Cancelled, _store.FindTrial(running.Id)!.Status);
        Assert.True(_store.StoreResult(running.Id, Specs.FakeResult(spec.Trials[0])));
        Assert.Equal(TrialStatus.Done, _store.FindTrial(running.Id)!.Status);
    }

    [Fact]
    public void AFailureInsideATransaction_LeavesTheStoreUnchanged()
    {
        var spec = Specs.Parse(Specs.Small);
        _store.BeforeCommit = () => throw new IOException("disk full");
        Assert.Throws<IOException>(() => _store.SubmitSweep(spec));
        _store.BeforeCommit = null;
        Assert.Empty(_store.ListSweeps());
        Assert.Null(_store.FindTrial(spec.Trials[0].Id));

        _store.SubmitSweep(spec);
        _store.BeforeCommit = () => throw new IOException("disk full");
        Assert.Throws<IOException>(() => _store.Dispatch(2, W1));
        Assert.Throws<IOException>(() => _store.Cancel(spec.Id));
        _store.BeforeCommit = null;
        Assert.Equal(4, _store.Status(spec.Id).Queued);
        Assert.Equal(0, _store.FindTrial(spec.Trials[0].Id)!.Attempts);
    }

    [Fact]
    public void UnknownSweeps_AreReportedAsSuch()
    {
        var unknown = new SweepId("0123456789abcdef");
        Assert.Throws<UnknownSweepException>(() => _store.Status(unknown));
        Assert.Throws<UnknownSweepException>(() => _store.Results(unknown));
        Assert.Null(_store.FindSweep(unknown));
        Assert.Throws<UnknownTrialException>(() => _store.MarkRunning(new TrialId("0123456789abcdef"), W1));
    }

    [Fact]
    public void RealResults_SurviveClosingAndReopeningTheDatabase()
    {
        var spec = Specs.Parse(Specs.Small);
        _store.SubmitSweep(spec);
        foreach (var ticket in _store.Dispatch(10, W1))
            Assert.True(_store.StoreResult(ticket.Id, TrialRunner.Run(ticket.ToSpec()).ToJson(indented: false)));
        var before = _store.Results(spec.Id);
        _store.Dispose();

        using var reopened = new ResultStore(DbPath);
        var after = reopened.Results(spec.Id);
        Assert.Equal(before.Select(r => (r.Position, r.Trial, r.Status, r.ResultJson, r.Description)),
            after.Select(r => (r.Position, r.Trial, r.Status, r.ResultJson, r.Description)));
        Assert.All(after, r => Assert.Equal(TrialStatus.Done, r.Status));
        Assert.Equal("workload=pt-clear policy=kvm-3.3 seed=2", after[3].Description);
        var sweep = reopened.FindSweep(spec.Id)!;
        Assert.Equal((spec.Text, spec.Canonical, "kvm-3.1", 4, 1L), (sweep.SpecText, sweep.Canonical, sweep.Baseline, sweep.Positions, sweep.Order));
        Assert.Equal(1.0, reopened.Status(spec.Id).Progress);
    }

    [Fact]
    public void ADatabaseFromANewerBuild_IsRefused()
    {
        _store.Dispose();
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "UPDATE schema_version SET version = 99";
            cmd.ExecuteNonQuery();
        }
        var e = Assert.Throws<StoreException>(() => new ResultStore(DbPath));
        Assert.Contains("schema version 99; this build reads version 1 (the database was written by a newer Farm)", e.Message);
    }
}
