using Farm.Cluster.Client;
using Farm.Cluster.Hosting;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Xunit;
using static Farm.Cluster.Tests.Farm.ClusterTestKit;

namespace Farm.Cluster.Tests.Farm;

/// <summary>Tests that start cluster nodes and processes: run alone, not beside other test classes,
/// so that their failure detection and deadlines see a machine that is not also running the rest.</summary>
[CollectionDefinition(nameof(ClusterProcesses), DisableParallelization = true)]
public sealed class ClusterProcesses;

/// <summary>Sweeps over real Akka clusters on loopback: every trial stored exactly once.</summary>
[Collection(nameof(ClusterProcesses))]
[Trait("Category", "Slow")] // docs/testing.md: left out of the quick subset
public class ClusterSweepTests
{
    // Nothing is killed in the in-process test: failure detection only has to be slow enough that a
    // loaded two-core machine's pauses never make a live worker unreachable.
    private static readonly TimeSpan Patient = TimeSpan.FromSeconds(30);

    internal static string SweepText(string workload, int seeds, params string[] extraBase) =>
        $"name: cluster-test\nworkload: {Path.Combine(RepoPaths.Workloads, workload)}\n"
        + (extraBase.Length > 0 ? "base:\n" + string.Concat(extraBase.Select(b => $"  {b}\n")) : "")
        + $"axes:\n  policy: [kvm-3.1, kvm-3.3]\n  vm.vcpus: [1, 2]\nseeds: {seeds}\n";

    internal static string TempDb() => Path.Combine(Path.GetTempPath(), $"farm-cluster-{Guid.NewGuid():N}.db");

    internal static void AssertEveryTrialStoredOnce(IReadOnlyList<SweepResultItem> items, int expected)
    {
        Assert.Equal(expected, items.Count);
        Assert.All(items, i => Assert.Equal("done", i.Status));
        Assert.All(items, i => Assert.NotNull(i.ResultJson));
        Assert.Equal(expected, items.Select(i => i.Trial).Distinct().Count());
    }

    [Fact]
    public async Task ThreeNodesInOneProcess_RunASweep_AndAResubmitRunsNothing()
    {
        string db = TempDb();
        await using var coordinator = FarmNode.Start(new NodeOptions { Roles = ["coordinator"], Port = 0, DatabasePath = db, HeartbeatPause = Patient, StableAfter = Patient });
        await using var w1 = FarmNode.Start(new NodeOptions { Roles = ["worker"], Port = 0, SeedNodes = [coordinator.Address], Slots = 1, PollInterval = TimeSpan.FromMilliseconds(100) });
        await using var w2 = FarmNode.Start(new NodeOptions { Roles = ["worker"], Port = 0, SeedNodes = [coordinator.Address], Slots = 1, PollInterval = TimeSpan.FromMilliseconds(100) });
        var client = new FarmClient(coordinator.System, coordinator.Coordinator);
        // Both workers known before the sweep: its trials are short, and a worker of short trials keeps several tickets a
        // slot, so one that joined late could find none left (docs/cluster.md, "Short trials travel in batches").
        var metrics = global::Farm.Cluster.Telemetry.FarmMetrics.Get(coordinator.System);
        var joined = System.Diagnostics.Stopwatch.StartNew();
        while (metrics.CoordinatorWorkers != 2)
        {
            Assert.True(joined.Elapsed < TimeSpan.FromMinutes(1), $"the coordinator knows {metrics.CoordinatorWorkers} workers after a minute");
            await Task.Delay(200);
        }

        var accepted = Assert.IsType<SweepAccepted>(await client.Submit(SweepText("micro/wrprotect.yaml", 3), baseDir: RepoPaths.Workloads));
        Assert.Equal(12, accepted.Trials);
        Assert.Equal(12, accepted.ToRun);
        var status = await client.WaitForCompletion(accepted.Sweep).WaitAsync(TimeSpan.FromMinutes(10)); // bounds a hang only
        Assert.Equal(12, status.Done);
        AssertEveryTrialStoredOnce((await client.Results(accepted.Sweep))!, 12);

        var again = Assert.IsType<SweepAccepted>(await client.Submit(SweepText("micro/wrprotect.yaml", 3), baseDir: RepoPaths.Workloads));
        Assert.Equal(accepted.Sweep, again.Sweep);
        Assert.Equal(0, again.ToRun);
        Assert.Equal(12, again.Reused);

        // Both workers took part (each ran at least one trial). The store is the coordinator's
        // alone while it runs (docs/failure-behaviour.md): read it once the node has left.
        var trials = (await client.Results(accepted.Sweep))!.Select(i => i.Trial).ToList();
        await coordinator.DisposeAsync();
        using var store = new ResultStore(db);
        Assert.Equal(2, trials.Select(t => store.FindTrial(t)!.Worker).Distinct().Count());
    }

    [Fact]
    public Task SeparateProcesses_AWorkerKilledMidSweep_LosesNoTrial() => NodeLogs.Run(async () =>
    {
            using var farm = ProcessFarm.Start(workers: 2);
            var api = farm.Api;

            // Trials that take a while each, so that the kill lands while some are running.
            string id = await api.Submit(SweepText("micro/pt-clear.yaml", 2, "workload.rounds: 300"));
            await WaitForDone(api, id, 2);
            farm.Workers[0].Kill();

            await WaitForDone(api, id, 8);
            Assert.Equal(0, (int)(await api.Status(id))!["failed"]!);
            farm.Coordinator.Kill(); // the store is the coordinator's alone while it runs
            await farm.Coordinator.WaitForExit(Stall);
            using var store = new ResultStore(farm.Db);
            AssertEveryTrialStoredOnce(store.Results(new SweepId(id)), 8);
    });

    [Fact]
    public Task CoordinatorRestartedMidSweep_ResumesFromTheStore_AndRunsNoFinishedTrialAgain() => NodeLogs.Run(async () =>
    {
            using var farm = ProcessFarm.Start(workers: 2);
            var api = farm.Api;

            string id = await api.Submit(SweepText("micro/pt-clear.yaml", 2, "workload.rounds: 300"));
            await WaitForDone(api, id, 2);
            farm.Coordinator.Kill();
            farm.Coordinator.Dispose();

            // Finished before the restart: these must keep their one and only run.
            List<(TrialId Id, string Json)> finished;
            using (var store = new ResultStore(farm.Db))
                finished = store.Results(new SweepId(id)).Where(i => i.Status == "done").Select(i => (i.Trial, i.ResultJson!)).ToList();
            Assert.True(finished.Count >= 2);

            // A new coordinator on the same store joins the surviving members and takes the singleton over.
            using var restarted = farm.StartCoordinator("--seed-nodes", farm.Workers[0].Address);
            await WaitForDone(api, id, 8);
            restarted.Kill(); // the store is the coordinator's alone while it runs
            await restarted.WaitForExit(Stall);
            using var after = new ResultStore(farm.Db);
            foreach (var (trial, json) in finished)
            {
                var record = after.FindTrial(trial)!;
                Assert.Equal(1, record.Attempts);
                Assert.Equal(json, record.ResultJson);
            }
            AssertEveryTrialStoredOnce(after.Results(new SweepId(id)), 8);
    });
}
