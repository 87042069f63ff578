using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Dispatch.MessageQueues;
using Farm.Actors.Engine;
using Xunit;

namespace Farm.Actors.Tests;

/// <summary>The strand's two queues and the lease mailbox (docs/engines.md, "One strand per trial").</summary>
public class TrialStrandTests
{
    /// <summary>
    /// Runs scheduled by the strand's own runs go to its plain queue and are taken first; a run
    /// scheduled from another thread must still get its turn while actors on the strand keep
    /// messaging each other (a trial's vCPU actors do so for minutes at full scale).
    /// </summary>
    [Fact]
    public async Task AMessageFromOutside_IsServed_WhileActorsOnTheStrandMessageEachOtherWithoutEnd()
    {
        using var system = ActorSystem.Create("strand-fairness", "akka.loglevel = WARNING");
        string strand = TrialStrand.Pool.Of(system).Rent();
        var ping = system.ActorOf(Props.Create(() => new Bouncer()).WithDispatcher(strand), "ping");
        var pong = system.ActorOf(Props.Create(() => new Bouncer()).WithDispatcher(strand), "pong");
        var echo = system.ActorOf(Props.Create(() => new Echo()).WithDispatcher(strand), "echo");
        ping.Tell(Ball.Instance, pong);
        await WaitForBounces(ping, pong, 10_000); // the rally is on (each hit a run the strand schedules itself)

        // The timeout only bounds a hang: without the turn for other threads' runs, the answer never comes.
        string answer = await echo.Ask<string>("hello", TimeSpan.FromSeconds(60));
        Assert.Equal("hello", answer);
        await system.Terminate(); // its stops, too, come from outside the strand
    }

    /// <summary>The lease is a token: at most one in an actor's slot; anything else, and a second lease, queue in order.</summary>
    [Fact]
    public void LeaseMessageQueue_TakesTheLeaseFirst_AndKeepsEveryOtherMessageInOrder()
    {
        var lease = (MmuLease)RuntimeHelpers.GetUninitializedObject(typeof(MmuLease)); // the queue looks at the message's type only
        var second = (MmuLease)RuntimeHelpers.GetUninitializedObject(typeof(MmuLease));
        var queue = new LeaseMessageQueue();
        Assert.False(queue.HasMessages);
        queue.Enqueue(ActorRefs.Nobody, new Envelope("a", ActorRefs.NoSender));
        queue.Enqueue(ActorRefs.Nobody, new Envelope(lease, ActorRefs.NoSender));
        queue.Enqueue(ActorRefs.Nobody, new Envelope("b", ActorRefs.NoSender));
        queue.Enqueue(ActorRefs.Nobody, new Envelope(second, ActorRefs.NoSender)); // slot taken: queued, not lost
        Assert.True(queue.HasMessages);
        Assert.Equal(4, queue.Count);

        var taken = new List<object>();
        while (queue.TryDequeue(out var envelope)) taken.Add(envelope.Message);
        Assert.Equal(new object[] { lease, "a", "b", second }, taken);
        Assert.False(queue.HasMessages);
        Assert.Equal(0, queue.Count);

        queue.Enqueue(ActorRefs.Nobody, new Envelope(lease, ActorRefs.NoSender)); // the slot is free again
        queue.Enqueue(ActorRefs.Nobody, new Envelope("c", ActorRefs.NoSender));
        var deadLetters = new UnboundedMessageQueue();
        queue.CleanUp(ActorRefs.Nobody, deadLetters);
        Assert.Equal(2, deadLetters.Count);
        Assert.False(queue.HasMessages);
    }

    private static async Task WaitForBounces(IActorRef ping, IActorRef pong, long bounces)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60); // bounds a hang only
        while (await ping.Ask<long>(Bouncer.Count, TimeSpan.FromSeconds(60)) + await pong.Ask<long>(Bouncer.Count, TimeSpan.FromSeconds(60)) < bounces)
        {
            Assert.True(DateTime.UtcNow < deadline, "the actors on the strand did not get going");
            await Task.Yield();
        }
    }

    private sealed class Ball
    {
        public static readonly Ball Instance = new();
    }

    /// <summary>Sends the ball back at once, for ever; answers <see cref="Count"/> with its hits so far.</summary>
    private sealed class Bouncer : UntypedActor
    {
        public const string Count = "count";
        private long _hits;

        protected override void OnReceive(object message)
        {
            if (message is Ball)
            {
                _hits++;
                Sender.Tell(message, Self);
            }
            else if (Count.Equals(message))
            {
                Sender.Tell(_hits);
            }
        }
    }

    private sealed class Echo : UntypedActor
    {
        protected override void OnReceive(object message) => Sender.Tell(message);
    }
}
