using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Cluster;
using Farm.Cluster.Protocol;

namespace Farm.Cluster.Telemetry;

/// <summary>
/// A node's own metrics (docs/operations.md): one <see cref="Meter"/> named <see cref="MeterName"/>
/// per actor system, so that several nodes in one process (tests, <c>farm sweep</c>) keep their
/// series apart. The coordinator and worker actors publish what they know here; the observable
/// gauges read it when a reader collects (a Prometheus scrape, an OTLP export), from another thread,
/// so everything published is an immutable snapshot or a single word.
/// </summary>
public sealed class FarmMetrics : IExtension, IDisposable
{
    public const string MeterName = "Farm";

    /// <summary>Complete sweeps kept as series besides every incomplete one: a store keeps sweeps forever, a dashboard does not need them all.</summary>
    public const int CompleteSweepsShown = 20;

    private static readonly string[] MemberStatuses = ["joining", "weaklyup", "up", "leaving", "exiting", "down", "removed"];

    private readonly Akka.Cluster.Cluster? _cluster;
    private readonly Histogram<double> _trialDuration;
    private readonly Counter<long> _workerTrials;
    private readonly Histogram<double> _storeWrite;
    private readonly Counter<long> _requeued;

    // Published by the coordinator actor while it runs on this node (null otherwise).
    private volatile CoordinatorView? _coordinator;
    // Published by this node's worker actor (null on a node without the worker role).
    private volatile WorkerView? _worker;

    private sealed record CoordinatorView(IReadOnlyList<SweepStatus> Sweeps, int Workers, int HeldRequests, bool StoreAvailable);

    private sealed record WorkerView(string Worker, int Slots, int Busy, int Unacknowledged);

    public FarmMetrics(ActorSystem system)
    {
        Meter = new Meter(MeterName, typeof(FarmMetrics).Assembly.GetName().Version?.ToString());
        _cluster = system is ExtendedActorSystem { Provider: Akka.Cluster.ClusterActorRefProvider } ? Akka.Cluster.Cluster.Get(system) : null;

        Meter.CreateObservableGauge("farm.sweep.trials", SweepTrials, "{trial}",
            "Trials of a sweep by state (queued, running, done, failed, cancelled), as the coordinator's store has them");
        Meter.CreateObservableGauge("farm.coordinator.workers", () => Coordinator(c => c.Workers), "{worker}",
            "Worker actors the coordinator knows (they asked for work and have not left)");
        Meter.CreateObservableGauge("farm.coordinator.held_requests", () => Coordinator(c => c.HeldRequests), "{request}",
            "Idle workers' requests for work held until trials are queued");
        Meter.CreateObservableGauge("farm.store.available", () => Coordinator(c => c.StoreAvailable ? 1 : 0), "1",
            "1 while the coordinator's store takes writes, 0 while dispatch has stopped on a store fault");
        _storeWrite = Meter.CreateHistogram("farm.store.write.duration", "s",
            "Time of one write transaction of the coordinator's store, by operation",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _requeued = Meter.CreateCounter<long>("farm.coordinator.trials.requeued", "{trial}",
            "Running trials queued again, by reason (worker_lost, deadline; returned: tickets a worker gave back unstarted)");

        _workerTrials = Meter.CreateCounter<long>("farm.worker.trials", "{trial}",
            "Trials this worker finished, by outcome (done: a result; failed: the trial threw)");
        _trialDuration = Meter.CreateHistogram("farm.trial.duration", "s",
            "Wall time of one trial on a worker, by outcome",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200] });
        Meter.CreateObservableGauge("farm.worker.slots", () => Worker(w => w.Slots), "{slot}", "Trials this worker may run at once");
        Meter.CreateObservableGauge("farm.worker.slots.busy", () => Worker(w => w.Busy), "{slot}", "Trials this worker is running");
        Meter.CreateObservableGauge("farm.worker.results.unacknowledged", () => Worker(w => w.Unacknowledged), "{result}",
            "Results this worker holds until the coordinator acknowledges them (grows while the store is unavailable)");

        Meter.CreateObservableGauge("farm.cluster.members", Members, "{member}",
            "Cluster members by status as this node sees them");
        Meter.CreateObservableGauge("farm.cluster.unreachable", () => _cluster is { } c ? c.State.Unreachable.Count : 0, "{member}",
            "Members this node's failure detector finds unreachable");
    }

    public Meter Meter { get; }

    /// <summary>The metrics of a node (one per actor system).</summary>
    public static FarmMetrics Get(ActorSystem system) => system.WithExtension<FarmMetrics, FarmMetricsId>();

    // --- published by the coordinator ---

    internal void PublishCoordinator(IReadOnlyList<SweepStatus> sweeps, int workers, int heldRequests, bool storeAvailable) =>
        _coordinator = new CoordinatorView(Shown(sweeps), workers, heldRequests, storeAvailable);

    /// <summary>The workers the coordinator on this node knew at its last publication (every 5 s), or null: none runs here.</summary>
    internal int? CoordinatorWorkers => _coordinator?.Workers;

    /// <summary>The coordinator left this node (stopped, or the singleton moved): its series go with it.</summary>
    internal void CoordinatorStopped() => _coordinator = null;

    internal void RecordStoreWrite(string operation, TimeSpan elapsed) =>
        _storeWrite.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("operation", operation));

    internal void RecordRequeued(string reason, int trials)
    {
        if (trials > 0) _requeued.Add(trials, new KeyValuePair<string, object?>("reason", reason));
    }

    // --- published by the worker ---

    internal void PublishWorker(WorkerId worker, int slots, int busy, int unacknowledged) =>
        _worker = new WorkerView(worker.Value, slots, busy, unacknowledged);

    internal void RecordTrial(WorkerId worker, bool done, TimeSpan elapsed)
    {
        var outcome = new KeyValuePair<string, object?>("outcome", done ? "done" : "failed");
        _workerTrials.Add(1, new KeyValuePair<string, object?>("worker", worker.Value), outcome);
        _trialDuration.Record(elapsed.TotalSeconds, outcome);
    }

    /// <summary>Every incomplete sweep and the latest complete ones, so the series stay bounded however many sweeps the store keeps.</summary>
    private static IReadOnlyList<SweepStatus> Shown(IReadOnlyList<SweepStatus> sweeps)
    {
        var complete = sweeps.Where(s => s.Complete).OrderByDescending(s => s.Order).Take(CompleteSweepsShown).ToHashSet();
        return sweeps.Where(s => !s.Complete || complete.Contains(s)).ToList();
    }

    private IEnumerable<Measurement<long>> SweepTrials()
    {
        if (_coordinator is not { } c) yield break;
        foreach (var s in c.Sweeps)
        {
            yield return SweepMeasurement(s, "queued", s.Queued);
            yield return SweepMeasurement(s, "running", s.Running);
            yield return SweepMeasurement(s, "done", s.Done);
            yield return SweepMeasurement(s, "failed", s.Failed);
            yield return SweepMeasurement(s, "cancelled", s.CancelledTrials);
        }
    }

    private static Measurement<long> SweepMeasurement(SweepStatus s, string state, int value) =>
        new(value, new KeyValuePair<string, object?>("sweep", s.Sweep.Value), new KeyValuePair<string, object?>("name", s.Name),
            new KeyValuePair<string, object?>("state", state));

    private IEnumerable<Measurement<long>> Coordinator(Func<CoordinatorView, int> value)
    {
        if (_coordinator is { } c) yield return new Measurement<long>(value(c));
    }

    private IEnumerable<Measurement<long>> Worker(Func<WorkerView, int> value)
    {
        if (_worker is { } w) yield return new Measurement<long>(value(w), new KeyValuePair<string, object?>("worker", w.Worker));
    }

    /// <summary>Every status, 0 included, so that an alert on one (say <c>up</c>) has a series to read.</summary>
    private IEnumerable<Measurement<long>> Members()
    {
        if (_cluster is null) yield break;
        var counts = _cluster.State.Members.GroupBy(m => m.Status.ToString().ToLowerInvariant()).ToDictionary(g => g.Key, g => g.Count());
        foreach (string status in MemberStatuses)
            yield return new Measurement<long>(counts.GetValueOrDefault(status), new KeyValuePair<string, object?>("status", status));
    }

    public void Dispose() => Meter.Dispose();
}

public sealed class FarmMetricsId : ExtensionIdProvider<FarmMetrics>
{
    public override FarmMetrics CreateExtension(ExtendedActorSystem system)
    {
        var metrics = new FarmMetrics(system);
        system.RegisterOnTermination(metrics.Dispose);
        return metrics;
    }
}
