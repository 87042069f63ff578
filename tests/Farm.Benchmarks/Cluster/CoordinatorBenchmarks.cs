using Akka.Actor;
using BenchmarkDotNet.Attributes;
using Farm.Cluster.Coordinator;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Farm.Cluster.Sweeps;

namespace Farm.Benchmarks.Cluster;

/// <summary>
/// Issue 18's farm target "coordinator overhead ≤ 1 ms a trial": the real coordinator actor and a
/// real SQLite store (a file in /tmp, WAL) serving a sweep of trivial trials to a worker that
/// answers every ticket at once with a real-sized result (a trivial wrprotect trial's JSON, run
/// once), so that the time is the farm's alone: messages, store transactions, the event log's
/// formatting and store reads as <c>farm serve</c> logs at Information (written nowhere). One
/// worker slot: each trial is a round trip, nothing overlaps, so the mean a trial is the farm's
/// cost a trial in time of one busy thread (the Mean column is per trial: OperationsPerInvoke).
/// <see cref="Protocol"/>: "separate" is protocol 1's exchange (result, request; Ack, work),
/// "combined" protocol 2's (the result carries the request; one answer carries the Ack).
/// <see cref="Remote"/>: the worker in a second actor system over Akka.Remote on loopback, every
/// message through the farm's MessagePack serializer, as between nodes; otherwise in-process.
/// Run: dotnet run -c Release --project tests/Farm.Benchmarks -- --filter '*CoordinatorBenchmarks*'
/// </summary>
[Config(typeof(BenchConfig))]
public class CoordinatorBenchmarks
{
    private sealed class BenchConfig : FarmBench.Config
    {
        public BenchConfig() : base(warmup: 5, iterations: 20)
        {
        }
    }

    public const int Trials = 400;

    [Params("separate", "combined")]
    public string Protocol { get; set; } = "combined";

    [Params(false, true)]
    public bool Remote { get; set; }

    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"farm-coordinator-bench-{Guid.NewGuid():N}");
    private ActorSystem _coordinatorSystem = null!;
    private ActorSystem? _workerSystem;
    private ResultStore _store = null!;
    private IActorRef _coordinator = null!;
    private IActorRef _worker = null!;
    private readonly FarmBench.Events _events = new();
    private string _template = "";
    private int _nextSeed = 1;
    private SweepSpec _spec = null!;

    [GlobalSetup]
    public void Setup()
    {
        _store = new ResultStore(Path.Combine(_dir, "farm.db"));
        _coordinatorSystem = FarmBench.NewSystem("coordinator", Remote);
        _coordinator = _coordinatorSystem.ActorOf(Props.Create(() => new CoordinatorActor(new CoordinatorOptions(), _store, null, _events)), "coordinator");
        var coordinator = _coordinator;
        if (Remote)
        {
            _workerSystem = FarmBench.NewSystem("worker", remote: true);
            var address = ((ExtendedActorSystem)_coordinatorSystem).Provider.DefaultAddress;
            coordinator = _workerSystem.ActorSelection($"{address}/user/coordinator").ResolveOne(TimeSpan.FromSeconds(30)).Result;
        }
        _template = FarmBench.Template(Next(1));
        bool combined = Protocol == "combined";
        _worker = (_workerSystem ?? _coordinatorSystem).ActorOf(Props.Create(() => new InstantWorker(coordinator, combined)));
    }

    private SweepSpec Next(int trials)
    {
        var spec = FarmBench.Sweep("wrprotect.yaml", "workload.pages: 1, engine: sequential", _nextSeed, trials);
        _nextSeed += trials;
        return spec;
    }

    [IterationSetup]
    public void NewSweep()
    {
        _spec = Next(Trials);
        _worker.Tell(new InstantWorker.Expect(FarmBench.Results(_spec, _template)));
        _events.Reset();
    }

    [Benchmark(OperationsPerInvoke = Trials)]
    public Task SweepOfTrivialTrials() => FarmBench.Measured($"{nameof(SweepOfTrivialTrials)} Protocol={Protocol} Remote={Remote}", Trials, async () =>
    {
        var accepted = await _coordinator.Ask<object>(new SubmitParsedSweep(_spec), TimeSpan.FromMinutes(1));
        if (accepted is not SweepAccepted { ToRun: Trials }) throw new InvalidOperationException($"submission answered {accepted}");
        await _events.Done.WaitAsync(TimeSpan.FromMinutes(5));
    });

    [GlobalCleanup]
    public void Cleanup()
    {
        _workerSystem?.Terminate().Wait();
        _coordinatorSystem.Terminate().Wait();
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A worker of one slot whose trials take no time: each ticket is answered with its result at once.</summary>
    private sealed class InstantWorker : ReceiveActor
    {
        public sealed record Expect(Dictionary<TrialId, string> Results);

        private static readonly WorkerId Id = new("instant-worker");
        private Dictionary<TrialId, string> _results = [];

        public InstantWorker(IActorRef coordinator, bool combined)
        {
            Receive<Expect>(e => _results = e.Results);
            Receive<WorkItems>(items =>
            {
                foreach (var t in items.Tickets)
                {
                    if (combined) coordinator.Tell(new TrialFinished(t.Id, Id, _results[t.Id], new RequestWork(Id, 1)));
                    else
                    {
                        coordinator.Tell(new TrialFinished(t.Id, Id, _results[t.Id]));
                        coordinator.Tell(new RequestWork(Id, 1));
                    }
                }
            });
            Receive<Ack>(_ => { });
            coordinator.Tell(new RequestWork(Id, 1)); // held until the first sweep
        }
    }
}
