using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Farm.Actors.Engine;

/// <summary>
/// The mailbox of a trial's actors on a <see cref="TrialStrand"/>: the lease (<see cref="MmuLease"/>)
/// in a slot of its own, any other message in Akka's usual concurrent queue. Akka's default queue
/// costs two atomic operations a message (enqueue and dequeue), one per change of the running vCPU
/// here. The slot needs none: the lease is a token, one per trial, sent only by its holder, an actor
/// of the trial, so on a strand its sender and its receiver both run on the strand's one thread
/// (one run at a time, successive work items ordered by the thread pool's queue). Off a strand a
/// sender's plain store could race with a receiver that is finishing a run on another thread, so
/// the engine uses this mailbox on strands only.
/// </summary>
internal sealed class LeaseMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<LeaseMessageQueue>
{
    /// <summary>The mailbox's id in the actor system's configuration (<see cref="Hocon"/>, added by <see cref="TrialStrand.Pool"/>).</summary>
    public const string Id = "farm-trial-lease-mailbox";

    public static readonly Config Hocon = ConfigurationFactory.ParseString(
        $"{Id}.mailbox-type = \"{typeof(LeaseMailbox).FullName}, {typeof(LeaseMailbox).Assembly.GetName().Name}\"");

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new LeaseMessageQueue();
}

/// <summary>The lease in a slot (single producer, single consumer, both on the strand); other messages in a concurrent queue.</summary>
internal sealed class LeaseMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    private readonly ConcurrentQueue<Envelope> _queue = new();
    private Envelope _lease;
    private bool _hasLease;

    public bool HasMessages => _hasLease || !_queue.IsEmpty;

    public int Count => (_hasLease ? 1 : 0) + _queue.Count;

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        if (envelope.Message is MmuLease && !_hasLease)
        {
            _lease = envelope;
            _hasLease = true;
        }
        else
        {
            _queue.Enqueue(envelope);
        }
    }

    public bool TryDequeue(out Envelope envelope)
    {
        // The lease first. Akka keeps the order of one sender's messages to one receiver; no sender in a
        // trial sends an actor both the lease and another message (a vCPU actor that fails sends the VM
        // actor TrialFailed and never the lease again), so taking the slot first reorders nothing.
        if (_hasLease)
        {
            envelope = _lease;
            _lease = default;
            _hasLease = false;
            return true;
        }
        return _queue.TryDequeue(out envelope);
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
    }
}
