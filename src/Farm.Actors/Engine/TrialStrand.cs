using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;

namespace Farm.Actors.Engine;

/// <summary>
/// The dispatcher of one trial's actors: their mailboxes run one at a time, inside one thread-pool
/// work item. A message between two actors of the trial is then a queue operation on the thread
/// that sent it, with no atomic operation (the strand's own queue; <see cref="LeaseMailbox"/> for the
/// actor's): no thread-pool dispatch, no idle worker woken to steal it, no migration of the trial's
/// state to another core. Runs scheduled from other threads go through a concurrent queue and are
/// taken at least every <see cref="ClockEvery"/> runs. Trials, each on a strand of its
/// own, run in parallel with each other. Which thread runs what never affects a result: the order
/// of service steps is the protocol's.
/// <para>
/// The lease (<see cref="MmuLease"/>), sent by a run of the strand to an actor of its trial, is handed
/// to the actor by the strand next through Akka's <c>ActorCell.Invoke</c>, the call its mailbox run
/// would make, without the mailbox run around it (its status and system-message atomics), when the
/// mailbox run would do nothing else: no system message waits (the actor's Create, a stop, a watch)
/// and the mailbox is neither suspended nor closed (<see cref="MailboxRun"/>). Otherwise, and for any
/// other message, the mailbox.
/// </para>
/// </summary>
internal sealed class TrialStrand : MessageDispatcher, IThreadPoolWorkItem
{
    /// <summary>Time after which a busy strand lets other thread-pool work, if any waits, go first (a
    /// trial that runs for seconds otherwise holds its thread throughout, as on the sequential engine).
    /// Re-queuing when nothing waits would only wake an idle worker to spin.</summary>
    private static readonly long Slice = Stopwatch.Frequency / 50; // 20 ms

    private const int ClockEvery = 32;

    /// <summary>The strand this thread is draining, if any.</summary>
    [ThreadStatic]
    private static TrialStrand? Draining;

    private readonly ConcurrentQueue<IRunnable> _queue = new(); // runs scheduled from other threads
    private readonly Queue<LocalRun> _local = new(); // runs scheduled by the strand's own runs: touched only while draining
    private readonly LeaseDelivery _delivery;
    private int _scheduled;

    private TrialStrand(MessageDispatcherConfigurator configurator) : base(configurator) => _delivery = new LeaseDelivery(this);

    /// <summary>Leases handed to an actor without a mailbox run so far (read by tests).</summary>
    public long LeasesDelivered => _delivery.Delivered;

    public override void Dispatch(ActorCell cell, Envelope envelope)
    {
        // The lease from a run of this strand to an actor of the trial (the lease mailbox takes it before any
        // other message anyway): the strand hands it over next, in the order of its own runs.
        if (Draining == this && envelope.Message is MmuLease && cell.Mailbox?.MessageQueue is LeaseMessageQueue && _delivery.Hold(cell, envelope))
        {
            _local.Enqueue(new LocalRun(_delivery));
            return;
        }
        base.Dispatch(cell, envelope);
    }

    protected override void ExecuteTask(IRunnable run)
    {
        // A run scheduled by a run of this strand (a message between the trial's actors: the lease at
        // each change of vCPU) needs no atomic operation: the strand is scheduled and drains it next.
        if (Draining == this)
        {
            _local.Enqueue(new LocalRun(run));
            return;
        }
        _queue.Enqueue(run);
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0) ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        // The trial's guest code reads no AsyncLocal, so the execution context need not flow into
        // its awaits (as on the sequential engine): with flow suppressed each resumption calls the
        // state machine directly instead of through ExecutionContext.RunInternal. Suppressed here
        // once for all the runs of this work item, not per message (VcpuActor does it off a strand).
        var flow = ExecutionContext.IsFlowSuppressed() ? default(AsyncFlowControl?) : ExecutionContext.SuppressFlow();
        Draining = this;
        try
        {
            Drain();
        }
        finally
        {
            Draining = null;
            flow?.Undo();
        }
    }

    private void Drain()
    {
        long end = Stopwatch.GetTimestamp() + Slice;
        int runs = 0;
        while (true)
        {
            while (TryTake(runs, out var run))
            {
                run.Run();
                // A run is usually a few microseconds (one message): read the clock every ClockEvery runs.
                if (++runs % ClockEvery != 0 || Stopwatch.GetTimestamp() <= end) continue;
                if (ThreadPool.PendingWorkItemCount > 0)
                {
                    ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false); // still marked scheduled
                    return;
                }
                end = Stopwatch.GetTimestamp() + Slice; // nothing else waits for a thread: go on
            }
            // Unschedule (a full fence, so the check below cannot read the queue before it): a run
            // enqueued after the last TryDequeue may have seen the strand scheduled and left it to us.
            // The strand's own queue is empty here and only this thread could fill it.
            Interlocked.Exchange(ref _scheduled, 0);
            if (_queue.IsEmpty || Interlocked.CompareExchange(ref _scheduled, 1, 0) != 0) return;
        }
    }

    /// <summary>
    /// The next run: the strand's own first, but a run from another thread (a system message, a stop)
    /// first every <see cref="ClockEvery"/> runs, so a trial that runs for minutes does not hold it back.
    /// </summary>
    private bool TryTake(int runs, [MaybeNullWhen(false)] out IRunnable run) =>
        (runs % ClockEvery == 0 && _queue.TryDequeue(out run)) || TryTakeLocal(out run) || _queue.TryDequeue(out run);

    private bool TryTakeLocal([MaybeNullWhen(false)] out IRunnable run)
    {
        bool taken = _local.TryDequeue(out var local);
        run = local.Runnable;
        return taken;
    }

    /// <summary>A run in the strand's own queue: a struct, so storing it needs no array-covariance check (an
    /// interface-typed array's element store goes through the runtime's type-check helper).</summary>
    private readonly record struct LocalRun(IRunnable Runnable);

    protected override void Shutdown()
    {
        // Nothing to release: a strand owns no thread; the pool hands it to the next trial.
    }

    /// <summary>
    /// The lease on its way from one actor of the trial to the next: one at a time (the lease is one
    /// token a trial, and a strand runs one trial), so one object serves every hand-over.
    /// </summary>
    private sealed class LeaseDelivery : IRunnable
    {
        private readonly TrialStrand _strand;
        private readonly Action _invoke;
        private ActorCell? _cell;
        private Envelope _envelope;

        public LeaseDelivery(TrialStrand strand)
        {
            _strand = strand;
            _invoke = Invoke;
        }

        public long Delivered { get; private set; }

        /// <summary>Takes the lease for <paramref name="cell"/>; false if one is already on its way (then it takes the mailbox).</summary>
        public bool Hold(ActorCell cell, Envelope envelope)
        {
            if (_cell is not null) return false;
            _cell = cell;
            _envelope = envelope;
            return true;
        }

        public void Run()
        {
            var cell = _cell!;
            if (cell.Mailbox is not { } mailbox)
            {
                Release(); // as Akka's send does for an actor without a mailbox
                return;
            }
            // Decided now, not at the send: a run in between may have stopped the actor or sent it a system message.
            if (!MailboxRun.ShouldProcessMessage(mailbox) || MailboxRun.HasSystemMessages(mailbox))
            {
                var envelope = Release();
                _strand.MailboxDispatch(cell, envelope); // its mailbox run drains what Akka has for it first (or dead-letters it)
                return;
            }
            cell.UseThreadContext(_invoke); // the actor's context, as its mailbox run sets it
        }

        public void Execute() => Run();

        private void Invoke()
        {
            var cell = _cell!;
            var envelope = Release(); // free before the receiver passes the lease on
            Delivered++;
            cell.Invoke(envelope);
        }

        private Envelope Release()
        {
            var envelope = _envelope;
            _cell = null;
            _envelope = default;
            return envelope;
        }
    }

    private void MailboxDispatch(ActorCell cell, Envelope envelope) => base.Dispatch(cell, envelope);

    private sealed class StrandConfigurator(Config config, IDispatcherPrerequisites prerequisites)
        : MessageDispatcherConfigurator(config, prerequisites)
    {
        private TrialStrand? _strand;

        public override MessageDispatcher Dispatcher() => LazyInitializer.EnsureInitialized(ref _strand, () => new TrialStrand(this));
    }

    /// <summary>
    /// The strands of one actor system, as dispatcher ids: a trial rents one and returns it when its
    /// actors have stopped, so a node registers as many as it ever ran trials at once.
    /// </summary>
    internal sealed class Pool : IExtension
    {
        private readonly ExtendedActorSystem _system;
        private readonly ConcurrentBag<string> _free = [];
        private int _count;

        public Pool(ExtendedActorSystem system)
        {
            _system = system;
            system.Settings.InjectTopLevelFallback(LeaseMailbox.Hocon); // the strands' actors' mailbox
        }

        public static Pool Of(ActorSystem system) => system.WithExtension<Pool, PoolProvider>();

        /// <summary>Strands registered so far.</summary>
        public int Count => Volatile.Read(ref _count);

        public string Rent()
        {
            if (_free.TryTake(out var id)) return id;
            id = $"farm-trial-strand-{Interlocked.Increment(ref _count)}";
            var config = ConfigurationFactory.ParseString($"id = \"{id}\"\nthroughput = 100")
                .WithFallback(_system.Dispatchers.DefaultDispatcherConfig);
            _system.Dispatchers.RegisterConfigurator(id, new StrandConfigurator(config, _system.Dispatchers.Prerequisites));
            return id;
        }

        public void Return(string id) => _free.Add(id);
    }

    private sealed class PoolProvider : ExtensionIdProvider<Pool>
    {
        public override Pool CreateExtension(ExtendedActorSystem system) => new(system);
    }
}
