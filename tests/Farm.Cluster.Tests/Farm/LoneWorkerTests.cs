using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Xunit;
using static Farm.Cluster.Tests.Farm.ClusterTestKit;
using static Farm.Cluster.Tests.Farm.HeldResults;

namespace Farm.Cluster.Tests.Farm;

/// <summary>
/// A coordinator that dies beside its only Up worker (docs/failure-behaviour.md, series E 2 and G):
/// the worker must down the dead coordinator and stay, not down itself.
/// </summary>
[Collection(nameof(ClusterProcesses))]
[Trait("Category", "Slow")] // docs/testing.md: process-level, left out of the quick subset
public class LoneWorkerTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5); // bounds a hang only
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The cluster as the worker sees it, from its /metrics; null while its node does not answer.</summary>
    private static async Task<(double Up, double Down, double Unreachable)?> Membership(int management)
    {
        try
        {
            var m = PrometheusText.Parse(await Http.GetStringAsync($"http://127.0.0.1:{management}/metrics"));
            return (m.Sum("farm_cluster_members", ("status", "up")), m.Sum("farm_cluster_members", ("status", "down")), m.Sum("farm_cluster_unreachable"));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Whether the node's process left its cluster (downed, or rejoining): <c>farm serve</c> says so on standard error.</summary>
    private static bool LeftTheCluster(ServeProcess node) => node.Errors.Any(l => l.Contains("left the cluster", StringComparison.Ordinal));

    /// <summary>
    /// A coordinator and one one-slot worker, both Up; a sweep of 8 trials (2 policies x 2 vCPU
    /// counts x 2 seeds) that the worker runs one after another; the coordinator SIGKILLed while the
    /// worker runs one of them, after at least one is stored. A new coordinator on the same store,
    /// on another address, joins through the worker at once, and waits, joining, until the dead one
    /// is gone. The worker's failure detector marks the dead coordinator unreachable; the downing
    /// provider must then down it (it is removed) and leave the worker be. Akka's keep-oldest with
    /// down-if-alone decided the other way here: the oldest (the dead coordinator) alone against one
    /// Up worker is a tie the oldest's side wins, so the worker downed itself and the joining
    /// coordinator, and the sweep never finished. Then: the new coordinator takes over, the worker
    /// sends the result it finished meanwhile, and the sweep completes with every trial stored once;
    /// the worker's own count says it ran 8 trials (so none twice), the trials stored before the
    /// kill keep their one attempt and result, and the worker never left its cluster.
    /// </summary>
    [Fact]
    public Task ACoordinatorKilledBesideItsOnlyWorker_IsDownedByTheWorker_WhichStays_AndEveryTrialRunsOnce() => NodeLogs.Run(async () =>
    {
        using var farm = ProcessFarm.Start(workers: 1, managed: true);
        var worker = farm.Workers[0];
        int m = farm.Management[0];
        await WaitUntil(async () => await Membership(m) is { Up: 2 }, Long, "the coordinator and the worker both Up in the worker's view");

        // Trials of a second or more each, so that the kill lands in one.
        string id = await farm.Api.Submit(ClusterSweepTests.SweepText("micro/pt-clear.yaml", 2, "workload.rounds: 300"));
        await WaitForDone(farm.Api, id, 1);
        await WaitUntil(async () => (await WorkerState(m)).Busy == 1, Long, "the worker running a trial");
        farm.Coordinator.Kill();
        Assert.NotNull(await farm.Coordinator.WaitForExit(Long));
        farm.Coordinator.Dispose(); // its store lock is free

        // Stored before the kill: these must keep their one and only run.
        List<(TrialId Id, string Json)> finished;
        using (var store = new ResultStore(farm.Db))
            finished = store.Results(new SweepId(id)).Where(i => i.Status == "done").Select(i => (i.Trial, i.ResultJson!)).ToList();
        Assert.InRange(finished.Count, 1, 7);

        using var restarted = farm.StartCoordinator("--seed-nodes", worker.Address);

        // The decision: first the worker's failure detector finds the dead coordinator unreachable,
        // then the downing provider decides; the unreachable member is gone when it was downed and
        // removed, and the worker's node leaves its cluster when the worker was downed.
        await WaitUntil(async () => LeftTheCluster(worker) || await Membership(m) is { Unreachable: >= 1 }, Long,
            "the worker finding the dead coordinator unreachable");
        await WaitUntil(async () => LeftTheCluster(worker) || await Membership(m) is { Unreachable: 0 }, Long,
            "the worker's downing provider deciding about the dead coordinator");
        Assert.False(LeftTheCluster(worker), "the worker left its cluster when its coordinator died: it was downed (keep-oldest downs itself here)");

        await WaitForDone(farm.Api, id, 8, "the sweep, finished under the new coordinator");
        Assert.Equal(0, (int)(await farm.Api.Status(id))!["failed"]!);
        await WaitUntil(async () => (await WorkerState(m)).Unacked == 0, Long, "every result the worker held acknowledged");
        Assert.Equal((2.0, 0.0, 0.0), await Membership(m)); // the worker and the new coordinator, nobody down or unreachable
        Assert.Null(await worker.WaitForExit(TimeSpan.Zero)); // the same process
        Assert.False(LeftTheCluster(worker), "the worker left its cluster after the new coordinator joined");
        Assert.Single(worker.Output, l => l.StartsWith("ready ", StringComparison.Ordinal));
        // One worker incarnation ran every trial: 8 runs for 8 trials means none ran twice.
        var metrics = PrometheusText.Parse(await Http.GetStringAsync($"http://127.0.0.1:{m}/metrics"));
        Assert.Equal(8, metrics.Sum("farm_worker_trials_total"));

        Assert.Null(await restarted.WaitForExit(TimeSpan.Zero));
        restarted.Kill(); // the store is the coordinator's alone while it runs
        Assert.NotNull(await restarted.WaitForExit(Long));
        Assert.DoesNotContain(restarted.Errors, l => l.Contains("coordinator: dropped a report", StringComparison.Ordinal));
        using var after = new ResultStore(farm.Db);
        ClusterSweepTests.AssertEveryTrialStoredOnce(after.Results(new SweepId(id)), 8);
        foreach (var (trial, json) in finished)
        {
            var record = after.FindTrial(trial)!;
            Assert.Equal(1, record.Attempts);
            Assert.Equal(json, record.ResultJson);
        }
    });
}
