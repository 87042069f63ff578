using Akka.Actor;
using Farm.Cluster.Coordinator;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>
/// An operator's bad day, sixth round: the store's whole directory deleted while the coordinator
/// serves (a cleaned-up data directory, a volume gone). The copy of the open database was only
/// ever saved beside the lost file, so with its directory gone nothing was saved and every result
/// was lost at the next restart. Now it goes to the temporary directory instead.
/// </summary>
public sealed class DeletedStoreDirectoryTests : IAsyncLifetime
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30); // bounds a hang only
    private static readonly WorkerId Worker = new("worker-1");

    private readonly TempDir _dir = new();
    private readonly string _name = $"farm-{Guid.NewGuid():N}.db"; // unique: the copy lands in the shared temporary directory
    private readonly ActorSystem _system = ActorSystem.Create("deleted-store-directory", "akka.loglevel = ERROR");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _system.Terminate();
        _dir.Dispose();
        foreach (string f in Directory.GetFiles(Path.GetTempPath(), _name + ".recovered-*")) File.Delete(f);
    }

    [Fact]
    public async Task TheStoresDirectoryDeleted_EverythingStoredIsSavedInTheTemporaryDirectory()
    {
        string data = Path.Combine(_dir.Path, "data");
        Directory.CreateDirectory(data);
        var store = new ResultStore(Path.Combine(data, _name));
        var health = new StoreHealth();
        var coordinator = _system.ActorOf(Props.Create(() => new CoordinatorActor(new CoordinatorOptions(), store, health)));
        var spec = Specs.Parse(Specs.Small); // 4 trials
        Assert.IsType<SweepAccepted>(await coordinator.Ask<object>(new SubmitSweep(Specs.Small, RepoPaths.Sweeps), Answer));
        var worker = Inbox.Create(_system);
        worker.Send(coordinator, new RequestWork(Worker, 2));
        var running = Assert.IsType<WorkItems>(await worker.ReceiveAsync(Answer)).Tickets;
        string stored = Specs.FakeResult(spec.Trials.First(t => t.Id == running[0].Id), "");
        worker.Send(coordinator, new TrialFinished(running[0].Id, Worker, stored));
        Assert.Equal(new Ack(running[0].Id), await worker.ReceiveAsync(Answer));

        Directory.Delete(data, recursive: true);
        worker.Send(coordinator, new TrialFinished(running[1].Id, Worker, Specs.FakeResult(spec.Trials.First(t => t.Id == running[1].Id), "")));
        var reply = Assert.IsType<StatusReply>(await coordinator.Ask<object>(new GetStatus(spec.Id), Answer));
        Assert.Contains("deleted, moved or replaced", reply.StoreError);

        // Beside the file is gone with it; the copy is in the temporary directory, and the error names it.
        string copy = Assert.Single(Directory.GetFiles(Path.GetTempPath(), _name + ".recovered-*"), f => !f.EndsWith("-wal") && !f.EndsWith("-journal"));
        Assert.Contains($"everything it held is saved in {copy}", reply.StoreError);
        await _system.Terminate();
        store.Dispose();
        using var recovered = new ResultStore(copy);
        Assert.Equal(stored, recovered.FindTrial(running[0].Id)!.ResultJson);
        Assert.Equal(1, recovered.Status(spec.Id).Done);
    }
}
