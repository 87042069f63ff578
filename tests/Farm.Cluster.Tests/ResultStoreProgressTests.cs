using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>The store's answers for the coordinator's log: which sweeps hold a trial, and which of them a result finished.</summary>
public sealed class ResultStoreProgressTests : IDisposable
{
    private static readonly WorkerId W = new("worker-1");

    private readonly TempDir _dir = new();
    private readonly ResultStore _store;

    public ResultStoreProgressTests() => _store = new ResultStore(Path.Combine(_dir.Path, "farm.db"));

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public void ASharedTrial_NamesBothSweeps_AndEachSweepIsFinishedByItsOwnLastResult()
    {
        // small: pt-clear x {kvm-3.1, kvm-3.3} x seeds {1, 2}; one: pt-clear x kvm-3.1 x seed 1, which small also holds.
        var small = Specs.Parse(Specs.Small);
        var one = Specs.Parse(Specs.Small.Replace("name: small", "name: one").Replace("[kvm-3.1, kvm-3.3]", "[kvm-3.1]").Replace("seeds: 2", "seeds: 1"));
        _store.SubmitSweep(small);
        _store.SubmitSweep(one);
        var shared = Assert.Single(one.Trials).Id;
        Assert.Equal([small.Id, one.Id], _store.SweepsOf(shared));
        Assert.Equal([small.Id], _store.SweepsOf(small.Trials.First(t => t.Id != shared).Id));

        var tickets = _store.Dispatch(10, W); // 4 distinct trials: the shared one is stored once
        Assert.Equal(4, tickets.Count);
        // The shared trial last: before it, nothing is finished; with it, both sweeps are.
        foreach (var t in tickets.Where(t => t.Id != shared))
        {
            _store.StoreResult(t.Id, Specs.FakeResult(small.Trials.First(x => x.Id == t.Id)));
            Assert.Empty(_store.FinishedSweepsOf(t.Id));
        }
        _store.StoreResult(shared, Specs.FakeResult(one.Trials[0]));
        var finished = _store.FinishedSweepsOf(shared);
        Assert.Equal([small.Id, one.Id], finished.Select(s => s.Sweep));
        Assert.Equal([4, 1], finished.Select(s => s.Done));
    }
}
