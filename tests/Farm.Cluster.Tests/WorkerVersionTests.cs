using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Farm.Cluster.Coordinator;
using Farm.Cluster.Protocol;
using Farm.Cluster.Serialization;
using Farm.Cluster.Store;
using Farm.Cluster.Worker;
using Farm.Simulation.Config;
using MessagePack;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>
/// A worker of another build (docs/failure-behaviour.md, "Workers of another build"): it used to
/// get tickets it could not read (a MessagePack error on the worker) or that it computed other ids
/// for. Its request says its protocol and model versions; the coordinator refuses a mismatch with
/// one log line naming both, and never dispatches to it; the worker logs the refusal once.
/// Versions are faked here: one build cannot run two.
/// </summary>
public sealed class WorkerVersionTests : IAsyncLifetime
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30); // bounds a hang only

    private readonly TempDir _dir = new();
    private ActorSystem _system = null!;
    private Inbox _log = null!;

    /// <summary>RequestWork as builds before versions wrote it: keys 0 and 1 only.</summary>
    [MessagePackObject]
    public sealed record OldRequestWork([property: Key(0)] WorkerId Worker, [property: Key(1)] int FreeSlots);

    public Task InitializeAsync()
    {
        // Warnings reach the event stream. (Every message's bytes: SerializerTests, with the samples of both requests.)
        _system = ActorSystem.Create("worker-versions", ConfigurationFactory.ParseString("""
            akka.loglevel = WARNING
            akka.stdout-loglevel = OFF
            """).WithFallback(FarmSerialization.Config));
        _log = Inbox.Create(_system);
        _system.EventStream.Subscribe(_log.Receiver, typeof(Warning));
        _system.EventStream.Subscribe(_log.Receiver, typeof(Error));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _system.Terminate();
        _dir.Dispose();
    }

    /// <summary>The next log line of ours (Akka's own lines skipped).</summary>
    private async Task<string> NextLine(string prefix)
    {
        while (true)
        {
            var e = Assert.IsAssignableFrom<LogEvent>(await _log.ReceiveAsync(Answer));
            string line = e.ToString();
            if (line.Contains(prefix, StringComparison.Ordinal)) return line;
        }
    }

    [Fact]
    public void ARequest_CarriesItsBuildsVersions_AndOneOfABuildBeforeVersionsReadsAsProtocolZero()
    {
        var worker = new WorkerId("w");
        var now = new RequestWork(worker, 2);
        Assert.Equal((FarmProtocol.Version, ConfigSchema.ModelVersion), (now.Protocol, now.Model));
        Assert.Equal(now, FarmCodec.Deserialize(FarmCodec.Serialize(now), "farm.request-work"));

        byte[] old = MessagePackSerializer.Serialize(new OldRequestWork(worker, 2), FarmCodec.Options);
        var read = Assert.IsType<RequestWork>(FarmCodec.Deserialize(old, "farm.request-work"));
        Assert.Equal(new RequestWork(worker, 2, 0, null), read);
        Assert.Null(FarmProtocol.Mismatch(FarmProtocol.Version, ConfigSchema.ModelVersion));
        Assert.Contains("0 (a build before protocol versions)", FarmProtocol.Mismatch(read.Protocol, read.Model));
    }

    [Fact]
    public async Task AWorkerOfAnotherBuild_IsRefused_LoggedOnceNamingBothVersions_AndNeverGetsATrial()
    {
        using var store = new ResultStore(Path.Combine(_dir.Path, "farm.db"));
        var coordinator = _system.ActorOf(Props.Create(() => new CoordinatorActor(new CoordinatorOptions(), store, null, null)));
        var client = Inbox.Create(_system);
        client.Send(coordinator, new SubmitSweep(Specs.Small, RepoPaths.Sweeps));
        Assert.IsType<SweepAccepted>(await client.ReceiveAsync(Answer)); // 4 trials queued

        // A newer protocol, then the same worker again: refused both times, logged once.
        var newer = Inbox.Create(_system);
        var newerId = new WorkerId("worker-newer");
        newer.Send(coordinator, new RequestWork(newerId, 4, FarmProtocol.Version + 1, ConfigSchema.ModelVersion));
        Assert.Equal(new WorkerRefused(FarmProtocol.Version, ConfigSchema.ModelVersion), await newer.ReceiveAsync(Answer));
        newer.Send(coordinator, new RequestWork(newerId, 4, FarmProtocol.Version + 1, ConfigSchema.ModelVersion));
        Assert.IsType<WorkerRefused>(await newer.ReceiveAsync(Answer));
        string line = await NextLine("coordinator: refused worker");
        Assert.Contains("worker-newer", line);
        Assert.Contains($"the worker speaks protocol {FarmProtocol.Version + 1} with model {ConfigSchema.ModelVersion}", line);
        Assert.Contains($"the coordinator protocol {FarmProtocol.Version} with model {ConfigSchema.ModelVersion}", line);

        // Another model (its trial ids would differ) is refused as well.
        var otherModel = Inbox.Create(_system);
        otherModel.Send(coordinator, new RequestWork(new WorkerId("worker-model"), 4, FarmProtocol.Version, "farm-model-0"));
        Assert.IsType<WorkerRefused>(await otherModel.ReceiveAsync(Answer));
        Assert.Contains("with model farm-model-0", await NextLine("coordinator: refused worker")); // the next refusal line: the newer worker's second was not logged

        // A build before versions cannot read the refusal: it gets no answer at all (its next
        // message's answer is the first it receives).
        var old = Inbox.Create(_system);
        old.Send(coordinator, new RequestWork(new WorkerId("worker-old"), 4, 0, null));
        old.Send(coordinator, new GetStatus());
        Assert.IsType<StatusReply>(await old.ReceiveAsync(Answer));
        Assert.Contains("protocol 0 (a build before protocol versions) with model (not sent)", await NextLine("coordinator: refused worker"));

        // Nothing was dispatched to them: all 4 trials are still queued, and go to a worker of this build.
        client.Send(coordinator, new GetStatus());
        var status = Assert.IsType<StatusReply>(await client.ReceiveAsync(Answer)).Sweeps.Single();
        Assert.Equal((4, 0), (status.Queued, status.Running));
        var current = Inbox.Create(_system);
        current.Send(coordinator, new RequestWork(new WorkerId("worker-current"), 4));
        Assert.Equal(4, Assert.IsType<WorkItems>(await current.ReceiveAsync(Answer)).Tickets.Count);
    }

    [Fact]
    public async Task AWorkerRefusedByTheCoordinator_LogsBothVersionsOnce()
    {
        var coordinator = Inbox.Create(_system);
        var id = new WorkerId("worker-refused");
        var worker = _system.ActorOf(Props.Create(() => new WorkerActor(id, 1, coordinator.Receiver, TimeSpan.FromMinutes(10), null)));
        var request = Assert.IsType<RequestWork>(await coordinator.ReceiveAsync(Answer));
        Assert.Equal((FarmProtocol.Version, ConfigSchema.ModelVersion), (request.Protocol, request.Model));

        coordinator.Send(worker, new WorkerRefused(FarmProtocol.Version + 1, "farm-model-99"));
        coordinator.Send(worker, new WorkerRefused(FarmProtocol.Version + 1, "farm-model-99")); // the same refusal: not logged again
        coordinator.Send(worker, new WorkerRefused(FarmProtocol.Version + 2, "farm-model-99"));
        string first = await NextLine("refused by the coordinator");
        Assert.Contains("worker-refused", first);
        Assert.Contains($"the worker speaks protocol {FarmProtocol.Version} with model {ConfigSchema.ModelVersion}, the coordinator protocol {FarmProtocol.Version + 1} with model farm-model-99", first);
        Assert.Contains($"the coordinator protocol {FarmProtocol.Version + 2}", await NextLine("refused by the coordinator"));
    }
}
