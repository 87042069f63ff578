using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Xunit;
using static Farm.Cluster.Tests.Farm.ClusterTestKit;
using static Farm.Cluster.Tests.Farm.HeldResults;

namespace Farm.Cluster.Tests.Farm;

/// <summary>
/// Workers that lost their coordinator come back by themselves (docs/failure-behaviour.md, "A
/// worker without a coordinator rejoins"), with real processes.
/// </summary>
[Collection(nameof(ClusterProcesses))]
[Trait("Category", "Slow")] // docs/testing.md: process-level, left out of the quick subset
public class WorkerRejoinTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5); // bounds a hang only
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// The coordinator is frozen while each worker runs a trial, so that both finish theirs and
    /// hold the results unacknowledged; it is killed and started again on the same address and
    /// store with only itself as seed: a cluster of its own, which the workers, still in the old
    /// one, never hear of. There they down and remove the dead coordinator; after
    /// <c>NodeDefaults.CoordinatorGrace</c> without one each worker leaves and starts again in its
    /// process, joins through its seed (the coordinator's address) and sends the results it held.
    /// The new coordinator leaves the trials the store says were running to their workers for
    /// <c>NodeDefaults.ResumeGrace</c>, so the held results are stored, not run again: every trial
    /// of the first sweep is stored once with one attempt, and so is every trial of the next.
    /// </summary>
    [Fact]
    public Task ACoordinatorRestartedWithOnlyItselfAsSeed_GetsItsWorkersBack_AndRunsEachTrialOnce() => NodeLogs.Run(async () =>
    {
        string db = ClusterSweepTests.TempDb();
        int http = FreePort(), remoting = FreePort(), m1 = FreePort(), m2 = FreePort();
        string self = $"akka.tcp://farm@127.0.0.1:{remoting}";
        string[] Coordinator() => ["--roles", "coordinator", "--port", $"{remoting}", "--db", db, "--http", $"http://127.0.0.1:{http}", "--seed-nodes", self];
        string[] Worker(int management) => ["--roles", "worker", "--port", "0", "--seed-nodes", self, "--slots", "1", "--management-port", $"{management}"];
        async Task<(double Up, double Down)> Members(int management)
        {
            var m = PrometheusText.Parse(await Http.GetStringAsync($"http://127.0.0.1:{management}/metrics"));
            return (m.Sum("farm_cluster_members", ("status", "up")), m.Sum("farm_cluster_members", ("status", "down")));
        }

        using var first = new ServeProcess(Coordinator()); // killed, frozen or not, whatever fails
        using var w1 = new ServeProcess(Worker(m1));
        using var w2 = new ServeProcess(Worker(m2));
        using var api = new Api($"http://127.0.0.1:{http}");
        // Trials of a few seconds each, so that the freeze lands in the first ones.
        string old = await api.Submit(ClusterSweepTests.SweepText("micro/pt-clear.yaml", 4, "workload.rounds: 1000"));
        var held = await FreezeUntilWorkersHoldResults_ThenKill(first, m1, m2, Long);
        using var second = new ServeProcess(Coordinator());
        // Nobody restarts the workers: each rejoins by itself, and sends what it held.
        await WaitForDone(api, old, 16, "the first sweep, finished by the rejoined workers");
        await WaitUntil(async () => (await WorkerState(m1)) == (0, 0) && (await WorkerState(m2)) == (0, 0), Long, "every held result acknowledged");
        foreach (var w in new[] { w1, w2 })
        {
            Assert.Null(await w.WaitForExit(TimeSpan.Zero)); // the same process
            Assert.Contains(w.Errors, l => l.Contains("the cluster has had no coordinator for", StringComparison.Ordinal));
            Assert.Single(w.Errors, l => l.Contains("starting again to rejoin through the seed nodes", StringComparison.Ordinal));
        }
        Assert.Single(w1.Output, l => l.StartsWith("ready ", StringComparison.Ordinal)); // one ready line; the rejoin says so on stderr

        string next = await api.Submit(ClusterSweepTests.SweepText("micro/pt-clear.yaml", 2, "workload.rounds: 301"));
        await WaitForDone(api, next, 8, "the next sweep");
        foreach (int m in new[] { m1, m2 })
            Assert.Equal((3.0, 0.0), await Members(m)); // one cluster of three, nobody downed
        Assert.Null(await second.WaitForExit(TimeSpan.Zero));
        second.Kill(); // the store is the coordinator's alone while it runs
        Assert.NotNull(await second.WaitForExit(Long));

        // Nothing held was dropped (the store knew every trial) and nothing ran twice: the trials
        // left running were the workers' held results, stored on their first and only attempt.
        // The one exception is a ticket that never left the frozen coordinator (a worker that held
        // nothing, see HeldResults): no worker reports it, so after the resume grace the new
        // coordinator queues it again (its deadline line names it) and it runs once, on attempt 2.
        Assert.DoesNotContain(second.Errors, l => l.Contains("coordinator: dropped a report", StringComparison.Ordinal));
        var requeued = second.Errors.Where(l => l.Contains("missed its deadline on worker", StringComparison.Ordinal))
            .Select(l => new TrialId(System.Text.RegularExpressions.Regex.Match(l, "trial ([0-9a-f]{16})").Groups[1].Value)).ToHashSet();
        Assert.True(requeued.Count <= held.Empty, $"{requeued.Count} trial(s) queued again after the grace, {held.Empty} worker(s) held nothing");
        using var after = new ResultStore(db);
        foreach (string id in new[] { old, next })
        {
            var items = after.Results(new SweepId(id));
            ClusterSweepTests.AssertEveryTrialStoredOnce(items, id == old ? 16 : 8);
            Assert.All(items, i => Assert.Equal(requeued.Contains(i.Trial) ? 2 : 1, after.FindTrial(i.Trial)!.Attempts));
        }
    });
}
