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
/// "combined" protocol 2's (the result carries the request; one answer carries the Ack), "batched" protocol 3's for short
/// trials (16 tickets kept, their results sent as one <see cref="TrialsFinished"/> with the next request: one message each
/// way and one transaction for 16 trials; docs/cluster.md, "Short trials travel in batches").
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

    [Params("separate", "combined", "batched")]
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
        string protocol = Protocol;
        _worker = (_workerSystem ?? _coordinatorSystem).ActorOf(Props.Create(() => new InstantWorker(coordinator, protocol)));
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

    /// <summary>A worker whose trials take no time: each ticket is answered with its result at once (one slot), or all the
    /// tickets of an answer with their results in one batch ("batched": 16 kept).</summary>
    private sealed class InstantWorker : ReceiveActor
    {
        public sealed record Expect(Dictionary<TrialId, string> Results);

        private const int Batch = Farm.Cluster.Hosting.NodeDefaults.MaxTicketDepth;
        private static readonly WorkerId Id = new("instant-worker");
        private Dictionary<TrialId, string> _results = [];

        public InstantWorker(IActorRef coordinator, string protocol)
        {
            Receive<Expect>(e => _results = e.Results);
            Receive<WorkItems>(items =>
            {
                if (protocol == "batched")
                {
                    if (items.Tickets.Count > 0)
                        coordinator.Tell(new TrialsFinished(items.Tickets.Select(t => new TrialFinished(t.Id, Id, _results[t.Id])).ToList(),
                            new RequestWork(Id, items.Tickets.Count, Batch, Batch)));
                    return;
                }
                foreach (var t in items.Tickets)
                {
                    if (protocol == "combined") coordinator.Tell(new TrialFinished(t.Id, Id, _results[t.Id], new RequestWork(Id, 1)));
                    else
                    {
                        coordinator.Tell(new TrialFinished(t.Id, Id, _results[t.Id]));
                        coordinator.Tell(new RequestWork(Id, 1));
                    }
                }
            });
            Receive<Ack>(_ => { });
            // Held until the first sweep (a held request is cut to the slots it says: batched says 16 slots, as 16 kept).
            coordinator.Tell(protocol == "batched" ? new RequestWork(Id, Batch, Batch, Batch) : new RequestWork(Id, 1));
        }
    }
}
