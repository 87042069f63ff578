using Akka.Actor;
using Farm.Cluster.Protocol;
using Farm.Cluster.Telemetry;
using Farm.Cluster.Tests.Farm;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Farm.Cluster.Tests.Telemetry;

/// <summary>
/// What a node's /metrics holds, in-process: only its own node's farm series when several nodes
/// share a process (meters are global), and a bounded set of sweeps however many the store keeps.
/// </summary>
public class NodeMetricsTests
{
    private const string ClusterConfig = "akka.actor.provider = cluster\nakka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }\nakka.loglevel = ERROR";

    /// <summary>The node's Prometheus endpoint, as the management server maps it, on a port of its own.</summary>
    private static async Task<IReadOnlyList<PromSample>> Scrape(FarmTelemetry telemetry)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapPrometheusScrapingEndpoint("/metrics", telemetry.Provider, null, null);
        await app.StartAsync();
        using var http = new HttpClient();
        return PrometheusText.Parse(await http.GetStringAsync(app.Urls.First() + "/metrics"));
    }

    [Fact]
    public async Task NodesInOneProcess_EachReportOnlyTheirOwnSeries()
    {
        using var a = ActorSystem.Create("node-a", ClusterConfig);
        using var b = ActorSystem.Create("node-b", ClusterConfig);
        using var ta = FarmTelemetry.Start(a, ["worker"]);
        using var tb = FarmTelemetry.Start(b, ["coordinator", "worker"]);
        FarmMetrics.Get(a).PublishWorker(new WorkerId("worker-a"), slots: 1, busy: 1, unacknowledged: 0);
        FarmMetrics.Get(a).RecordTrial(new WorkerId("worker-a"), done: true, TimeSpan.FromSeconds(2));
        FarmMetrics.Get(b).PublishWorker(new WorkerId("worker-b"), slots: 3, busy: 0, unacknowledged: 2);
        FarmMetrics.Get(b).PublishCoordinator([], workers: 1, heldRequests: 1, storeAvailable: true);

        var onA = await Scrape(ta);
        Assert.Equal(["worker-a"], onA.Where(s => s.Name.StartsWith("farm_worker", StringComparison.Ordinal)).Select(s => s["worker"]).Distinct());
        Assert.Equal(1, onA.Sum("farm_worker_slots"));
        Assert.Equal(1, onA.Sum("farm_worker_trials_total", ("outcome", "done")));
        Assert.Equal(1, onA.Sum("farm_trial_duration_seconds_count"));
        Assert.Equal(2, onA.Sum("farm_trial_duration_seconds_sum"));
        Assert.DoesNotContain(onA, s => s.Name == "farm_store_available"); // no coordinator on node a

        var onB = await Scrape(tb);
        Assert.Equal(["worker-b"], onB.Where(s => s.Name.StartsWith("farm_worker", StringComparison.Ordinal)).Select(s => s["worker"]).Distinct());
        Assert.Equal(3, onB.Sum("farm_worker_slots"));
        Assert.Equal(2, onB.Sum("farm_worker_results_unacknowledged"));
        Assert.DoesNotContain(onB, s => s.Name == "farm_worker_trials_total"); // node a's trial is not b's
        Assert.Equal(1, onB.Sum("farm_store_available"));
        Assert.Equal(0, onB.Sum("farm_cluster_members", ("status", "up"))); // not joined: every status present, all 0
        Assert.Equal(7, onB.Count(s => s.Name == "farm_cluster_members"));
    }

    [Fact]
    public async Task TheSweepsShown_AreEveryIncompleteOne_AndTheLatestCompleteOnes()
    {
        using var system = ActorSystem.Create("node-sweeps", ClusterConfig);
        using var telemetry = FarmTelemetry.Start(system, ["coordinator"]);
        // 25 complete sweeps (orders 1-25) and 2 incomplete ones (orders 26, 27).
        var sweeps = Enumerable.Range(1, 25).Select(i => new SweepStatus(new SweepId($"c{i:D15}"), $"done-{i}", i, false, 4, 0, 0, 3, 1, 0))
            .Concat([
                new SweepStatus(new SweepId("q000000000000026"), "live-26", 26, false, 10, 6, 2, 2, 0, 0),
                new SweepStatus(new SweepId("q000000000000027"), "live-27", 27, false, 5, 5, 0, 0, 0, 0),
            ]).ToList();
        FarmMetrics.Get(system).PublishCoordinator(sweeps, workers: 0, heldRequests: 0, storeAvailable: true);

        var samples = (await Scrape(telemetry)).Where(s => s.Name == "farm_sweep_trials").ToList();
        var shown = samples.Select(s => s["sweep"]!).Distinct().ToHashSet();
        Assert.Equal(2 + FarmMetrics.CompleteSweepsShown, shown.Count);
        Assert.Contains("q000000000000026", shown);
        Assert.Contains("q000000000000027", shown);
        Assert.DoesNotContain("c000000000000005", shown); // the 5 oldest complete ones (1-5) are left out
        Assert.Contains("c000000000000006", shown);
        Assert.Equal(5 * shown.Count, samples.Count); // queued, running, done, failed, cancelled each
        Assert.Equal(6, samples.Sum("farm_sweep_trials", ("sweep", "q000000000000026"), ("state", "queued")));
        Assert.Equal(2, samples.Sum("farm_sweep_trials", ("sweep", "q000000000000026"), ("state", "running")));
        Assert.Equal("live-26", samples.First(s => s["sweep"] == "q000000000000026")["name"]);
    }
}
