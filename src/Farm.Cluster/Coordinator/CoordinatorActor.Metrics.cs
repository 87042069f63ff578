using System.Diagnostics;
using Farm.Cluster.Protocol;
using Farm.Cluster.Telemetry;

namespace Farm.Cluster.Coordinator;

/// <summary>
/// What the coordinator publishes as metrics (docs/operations.md): store write times as they
/// happen, and a snapshot of the sweeps' counts, workers and held requests every few seconds. The
/// sweeps are read from the store only after a write changed something, so an idle coordinator
/// queries nothing.
/// </summary>
public sealed partial class CoordinatorActor
{
    private sealed class PublishMetrics
    {
        public static readonly PublishMetrics Instance = new();
    }

    /// <summary>
    /// Counting every sweep's trials reads the whole store (60-80 ms of CPU for one 10,000-trial sweep,
    /// docs/operations.md): every 5 s bounds that to about 2 % of a core while trials finish, and is
    /// still fresher than a scrape.
    /// </summary>
    private static readonly TimeSpan MetricsInterval = TimeSpan.FromSeconds(5);

    private readonly FarmMetrics _metrics = FarmMetrics.Get(Context.System);
    private IReadOnlyList<SweepStatus> _sweepsShown = [];
    /// <summary>A store write happened since the sweeps were last read (true at start: a previous process may have left them anyhow).</summary>
    private bool _sweepsChanged = true;

    /// <summary>In the constructor, where an actor's handlers are set.</summary>
    private void ReceiveMetrics() => Receive<PublishMetrics>(_ => Publish());

    private void StartMetrics()
    {
        Publish();
        Timers.StartPeriodicTimer("metrics", PublishMetrics.Instance, MetricsInterval);
    }

    protected override void PostStop() => _metrics.CoordinatorStopped();

    private void Publish()
    {
        if (_sweepsChanged)
        {
            try
            {
                _sweepsShown = _store.ListSweeps();
                _sweepsChanged = false;
            }
            catch (Exception)
            {
                // Kept as last read and tried again next time: the fault itself is the writes' to report
                // (farm.store.available), and a metric must never fail the actor.
            }
        }
        _metrics.PublishCoordinator(_sweepsShown, _watched.Count, _waiting.Count, _fault is null);
    }

    /// <summary>A store write, timed; the sweeps' counts are read again at the next publication.</summary>
    private T StoreWrite<T>(string operation, Func<T> write)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            return write();
        }
        finally
        {
            _metrics.RecordStoreWrite(operation, Stopwatch.GetElapsedTime(start));
            _sweepsChanged = true;
        }
    }

    /// <summary>Takes queued trials for a worker; an empty queue changes nothing, so it does not count as a change.</summary>
    private IReadOnlyList<TrialTicket> StoreDispatch(int count, WorkerId worker)
    {
        long start = Stopwatch.GetTimestamp();
        var tickets = _store.Dispatch(count, worker);
        _metrics.RecordStoreWrite("dispatch", Stopwatch.GetElapsedTime(start));
        if (tickets.Count > 0) _sweepsChanged = true;
        return tickets;
    }
}
