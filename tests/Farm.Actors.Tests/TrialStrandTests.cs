using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Dispatch.MessageQueues;
using Farm.Actors.Engine;
using Xunit;

namespace Farm.Actors.Tests;

/// <summary>The strand's two queues, the lease mailbox and the lease handed over without a mailbox run (docs/engines.md, "One strand per trial", "The lease handed over without a mailbox run").</summary>
public class TrialStrandTests
{
    /// <summary>
    /// Runs scheduled by the strand's own runs go to its plain queue and are taken first; a run
    /// scheduled from another thread must still get its turn while actors on the strand keep
    /// messaging each other (a trial's vCPU actors do so for minutes at full scale).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the lease: handed over by the strand without a mailbox run
    public async Task AMessageFromOutside_IsServed_WhileActorsOnTheStrandMessageEachOtherWithoutEnd(bool lease)
    {
        using var system = ActorSystem.Create("strand-fairness", "akka.loglevel = WARNING");
        string strand = TrialStrand.Pool.Of(system).Rent();
        var ping = system.ActorOf(Bouncer.Props(strand), "ping");
        var pong = system.ActorOf(Bouncer.Props(strand), "pong");
        var echo = system.ActorOf(Props.Create(() => new Echo()).WithDispatcher(strand), "echo");
        ping.Tell(lease ? NewLease() : Ball.Instance, pong);
        await WaitForBounces(ping, pong, 10_000); // the rally is on (each hit a run the strand schedules itself)

        // The timeout only bounds a hang: without the turn for other threads' runs, the answer never comes.
        string answer = await echo.Ask<string>("hello", TimeSpan.FromSeconds(60));
        Assert.Equal("hello", answer);
        await system.Terminate(); // its stops, too, come from outside the strand
    }

    /// <summary>
    /// The lease between two actors of a strand, once each has been created and has no system message
    /// waiting, is handed over by the strand without a mailbox run: all but the first hand-overs.
    /// </summary>
    [Fact]
    public async Task TheLease_BetweenActorsOfTheStrand_IsHandedOverWithoutAMailboxRun()
    {
        using var system = ActorSystem.Create("strand-lease", "akka.loglevel = WARNING");
        string strand = TrialStrand.Pool.Of(system).Rent();
        var hits = new Hits(); // both count here: ping has the odd hits, pong the even ones
        var ping = system.ActorOf(Bouncer.Props(strand, hits), "ping");
        var pong = system.ActorOf(Bouncer.Props(strand, hits, stopAt: 1000), "pong");
        ping.Tell(NewLease(), pong);
        await hits.Stopped.Task.WaitAsync(TimeSpan.FromSeconds(60)); // bounds a hang only

        var dispatcher = (TrialStrand)system.Dispatchers.Lookup(strand);
        Assert.Equal(1000, hits.Count);
        // The first comes from outside the strand; the first to pong may find its Create still waiting.
        Assert.InRange(dispatcher.LeasesDelivered, 1000 - 2, 1000 - 1);
    }

    /// <summary>
    /// Akka drains an actor's system messages before its next message: an actor told to stop after
    /// being sent the lease never receives it, though the lease would otherwise be handed over first.
    /// </summary>
    [Fact]
    public async Task TheLease_SentBeforeAStop_IsNotHandedToTheStoppedActor()
    {
        using var system = ActorSystem.Create("strand-lease-stop", "akka.loglevel = WARNING");
        string strand = TrialStrand.Pool.Of(system).Rent();
        var pingHits = new Hits();
        var pongHits = new Hits();
        var pong = system.ActorOf(Bouncer.Props(strand, pongHits), "pong");
        var ping = system.ActorOf(Bouncer.Props(strand, pingHits, stopAt: 50, stopping: pong), "ping");
        ping.Tell(NewLease(), pong);
        // A lease handed over wrongly would reach pong before the run that stops it, so before its PostStop.
        await pongHits.Stopped.Task.WaitAsync(TimeSpan.FromSeconds(60)); // bounds a hang only

        Assert.Equal(50, pingHits.Count); // ping's 50th hit sent the lease to pong, then stopped it
        Assert.Equal(49, pongHits.Count);
    }

    /// <summary>
    /// An actor being stopped waits for its children to stop with its mailbox suspended and no system
    /// message pending: Akka hands it no message then (the lease goes to dead letters when it has
    /// stopped), and neither does the strand.
    /// </summary>
    [Fact]
    public async Task TheLease_IsNotHandedToAnActorThatIsStopping()
    {
        using var system = ActorSystem.Create("strand-lease-stopping", "akka.loglevel = WARNING");
        string strand = TrialStrand.Pool.Of(system).Rent();
        var parentHits = new Hits();
        var parent = system.ActorOf(Akka.Actor.Props.Create(() => new ParentOfASlowChild(parentHits)).WithDispatcher(strand).WithMailbox(LeaseMailbox.Id), "parent");
        var pong = system.ActorOf(Bouncer.Props(strand), "pong");
        var ping = system.ActorOf(Akka.Actor.Props.Create(() => new Diverter(parent, 20)).WithDispatcher(strand).WithMailbox(LeaseMailbox.Id), "ping");
        ping.Tell(NewLease(), pong);
        await parentHits.Stopped.Task.WaitAsync(TimeSpan.FromSeconds(60)); // bounds a hang only

        Assert.Equal(0, parentHits.Count);
    }

    /// <summary>Returns the lease to its sender; at hit <c>stopAt</c> it stops <c>target</c> as well, and at
    /// the next hit sends the lease to <c>target</c> instead (while its child still stops).</summary>
    private sealed class Diverter(IActorRef target, int stopAt) : UntypedActor
    {
        private int _hits;

        protected override void OnReceive(object message)
        {
            if (message is not MmuLease) return;
            _hits++;
            if (_hits == stopAt + 1)
            {
                target.Tell(message, Self);
                return;
            }
            Sender.Tell(message, Self);
            if (_hits == stopAt) ((IInternalActorRef)target).Stop();
        }
    }

    /// <summary>Counts leases received; its child, on another dispatcher, takes a while to stop.</summary>
    private sealed class ParentOfASlowChild(Hits hits) : UntypedActor
    {
        protected override void PreStart() => Context.ActorOf(Akka.Actor.Props.Create(() => new SlowToStop()), "child");

        protected override void OnReceive(object message)
        {
            if (message is MmuLease) hits.Count++;
        }

        protected override void PostStop() => hits.Stopped.TrySetResult();
    }

    private sealed class SlowToStop : UntypedActor
    {
        protected override void OnReceive(object message)
        {
        }

        protected override void PostStop() => Thread.Sleep(500); // on the default dispatcher, not the strand
    }

    /// <summary>The lease is a token: at most one in an actor's slot; anything else, and a second lease, queue in order.</summary>
    [Fact]
    public void LeaseMessageQueue_TakesTheLeaseFirst_AndKeepsEveryOtherMessageInOrder()
    {
        var lease = NewLease(); // the queue looks at the message's type only
        var second = NewLease();
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

    private static MmuLease NewLease() => (MmuLease)RuntimeHelpers.GetUninitializedObject(typeof(MmuLease)); // a token: its type is what counts

    private sealed class Ball
    {
        public static readonly Ball Instance = new();
    }

    /// <summary>Hits of one or more <see cref="Bouncer"/>s, and a signal when one stops.</summary>
    private sealed class Hits
    {
        public int Count;
        public readonly TaskCompletionSource Stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Sends the ball (or the lease) back at once, for ever, or until its <c>stopAt</c>-th hit: then it
    /// stops itself, or sends it on and stops <c>stopping</c> right after; answers <see cref="Count"/> with its hits so far.
    /// </summary>
    private sealed class Bouncer(Hits hits, int stopAt, IActorRef? stopping) : UntypedActor
    {
        public const string Count = "count";

        public static Props Props(string strand, Hits? hits = null, int stopAt = 0, IActorRef? stopping = null)
        {
            var counted = hits ?? new Hits();
            return Akka.Actor.Props.Create(() => new Bouncer(counted, stopAt, stopping)).WithDispatcher(strand).WithMailbox(LeaseMailbox.Id);
        }

        protected override void OnReceive(object message)
        {
            if (message is Ball or MmuLease)
            {
                int hit = ++hits.Count;
                if (hit != stopAt)
                {
                    Sender.Tell(message, Self);
                }
                else if (stopping is null)
                {
                    Context.Stop(Self);
                }
                else
                {
                    Sender.Tell(message, Self);
                    ((IInternalActorRef)stopping).Stop(); // a system message, after the lease
                }
            }
            else if (Count.Equals(message))
            {
                Sender.Tell((long)hits.Count);
            }
        }

        protected override void PostStop() => hits.Stopped.TrySetResult();
    }

    private sealed class Echo : UntypedActor
    {
        protected override void OnReceive(object message) => Sender.Tell(message);
    }
}
