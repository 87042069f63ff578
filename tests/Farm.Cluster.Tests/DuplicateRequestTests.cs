using Akka.Actor;
using Farm.Cluster.Coordinator;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>
/// A worker asks again after <c>NodeDefaults.RequestResend</c> when no answer came; a request
/// that was only late (or held with the resend by a coordinator proxy that had not found the
/// coordinator yet, and delivered with it) must not be answered twice: a one-slot worker given
/// two trials holds one it cannot start, and if it leaves, that trial counts an attempt it never
/// ran (seen in BootstrapTests' SIGTERM test: "2 trials ran twice"). The coordinator gives a
/// worker at most the slots it has asked for while idle, less the tickets it has not reported on.
/// </summary>
public sealed class DuplicateRequestTests : IDisposable
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30); // bounds a hang only

    private readonly TempDir _dir = new();
    private readonly ActorSystem _system = ActorSystem.Create("duplicate-request", "akka.loglevel = ERROR");
    private readonly ResultStore _store;
    private readonly Sweeps.SweepSpec _spec = Specs.Parse(Specs.Small); // 4 trials

    public DuplicateRequestTests() => _store = new ResultStore(Path.Combine(_dir.Path, "farm.db"));

    public void Dispose()
    {
        _system.Terminate().Wait(Answer);
        _store.Dispose();
        _dir.Dispose();
    }

    private async Task<int> Running(IActorRef coordinator) =>
        (await coordinator.Ask<StatusReply>(new GetStatus(_spec.Id), Answer)).Sweeps.Single().Running;

    [Fact]
    public async Task ARequestAskedTwice_GetsOneSlotsWorth_AndTheNextComesWithTheResult()
    {
        _store.SubmitSweep(_spec);
        var coordinator = _system.ActorOf(Props.Create(() => new CoordinatorActor(new CoordinatorOptions(), _store, null, null)));
        var a = new WorkerId("worker-a");
        var inbox = Inbox.Create(_system);

        coordinator.Tell(new RequestWork(a, 1), inbox.Receiver);
        coordinator.Tell(new RequestWork(a, 1), inbox.Receiver); // the resend, delivered after the first
        var t1 = Assert.IsType<WorkItems>(await inbox.ReceiveAsync(Answer)).Tickets.Single().Id;
        Assert.Equal(1, await Running(coordinator)); // nothing taken for the resend (the status is answered after both)

        // Its result carries the next request: one trial, t1 acknowledged, and still one at a time.
        coordinator.Tell(new TrialFinished(t1, a, Specs.FakeResult(_spec.Trials.Single(t => t.Id == t1)), new RequestWork(a, 1)), inbox.Receiver);
        var answer = Assert.IsType<WorkItems>(await inbox.ReceiveAsync(Answer));
        Assert.Equal(t1, answer.Acked);
        var t2 = Assert.Single(answer.Tickets).Id;
        Assert.NotEqual(t1, t2);
        coordinator.Tell(new RequestWork(a, 1), inbox.Receiver);
        Assert.Equal(1, await Running(coordinator));
    }
}
