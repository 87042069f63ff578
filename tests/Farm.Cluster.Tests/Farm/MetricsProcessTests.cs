using Xunit;
using static Farm.Cluster.Tests.Farm.ClusterTestKit;

namespace Farm.Cluster.Tests.Farm;

/// <summary>
/// Issue 17 item 1: a three-process farm (a coordinator, two workers, each with its management
/// port) serves <c>/metrics</c> on every node, and the series carry the counts of a sweep.
/// </summary>
[Collection(nameof(ClusterProcesses))]
[Trait("Category", "Slow")] // docs/testing.md: three processes
public class MetricsProcessTests
{
    private static async Task<IReadOnlyList<PromSample>> Scrape(HttpClient http, int port)
    {
        var r = await http.GetAsync($"http://127.0.0.1:{port}/metrics");
        Assert.True(r.IsSuccessStatusCode, $"/metrics on {port}: {(int)r.StatusCode}");
        Assert.StartsWith("text/plain", r.Content.Headers.ContentType!.MediaType); // Prometheus's text format (or OpenMetrics when asked)
        return PrometheusText.Parse(await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public Task EveryNode_ServesMetrics_WithTheCountsOfASweep() => NodeLogs.Run(async () =>
    {
            string db = ClusterSweepTests.TempDb();
            int http = FreePort(), mc = FreePort(), m1 = FreePort(), m2 = FreePort();
            using var coordinator = new ServeProcess("--roles", "coordinator", "--port", "0", "--db", db, "--http", $"http://127.0.0.1:{http}",
                "--management-port", mc.ToString());
            using var w1 = new ServeProcess("--roles", "worker", "--port", "0", "--seed-nodes", coordinator.Address, "--slots", "1", "--management-port", m1.ToString());
            using var w2 = new ServeProcess("--roles", "worker", "--port", "0", "--seed-nodes", coordinator.Address, "--slots", "1", "--management-port", m2.ToString());
            using var api = new Api($"http://127.0.0.1:{http}");
            using var scrape = new HttpClient { Timeout = TimeSpan.FromMinutes(1) };

            // Both workers have joined and asked for work before the sweep goes in. A worker can ask
            // while the coordinator still sees it Joining (or WeaklyUp), so wait for three Up members too.
            await WaitUntil(async () =>
            {
                var m = await Scrape(scrape, mc);
                return m.Sum("farm_coordinator_workers") == 2 && m.Sum("farm_cluster_members", ("status", "up")) == 3;
            }, Stall, "the coordinator knows two workers and sees three Up members");
            var before = await Scrape(scrape, mc);
            Assert.Equal(3, before.Sum("farm_cluster_members", ("status", "up"))); // every status has a series, 0 or not
            Assert.Equal(0, before.Sum("farm_cluster_members", ("status", "down")));
            Assert.Equal(1, before.Sum("farm_store_available"));

            // 2 policies × 2 vCPU counts × 2 seeds.
            const int trials = 8;
            string id = await api.Submit(ClusterSweepTests.SweepText("micro/wrprotect.yaml", 2));

            // While it runs, every scrape accounts for every trial of the sweep: nothing fails or is cancelled here.
            int lastDone = -1;
            var sinceChange = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                var during = await Scrape(scrape, mc);
                double Trials(string state) => during.Sum("farm_sweep_trials", ("sweep", id), ("state", state));
                if (during.Any(s => s.Name == "farm_sweep_trials" && s["sweep"] == id))
                {
                    Assert.Equal(trials, Trials("queued") + Trials("running") + Trials("done"));
                    Assert.Equal(0, Trials("failed") + Trials("cancelled"));
                    Assert.All(during.Where(s => s["sweep"] == id), s => Assert.Equal("cluster-test", s["name"]));
                }
                int done = (int)Trials("done");
                if (done == trials) break;
                if (done != lastDone) (lastDone, sinceChange) = (done, System.Diagnostics.Stopwatch.StartNew());
                else if (sinceChange.Elapsed > Stall) throw new TimeoutException($"/metrics: {done} of {trials} done and none finished in {Stall}");
                await Task.Delay(200); // the poll interval: nothing waits on it passing
            }

            var after = await Scrape(scrape, mc);
            Assert.Equal(0, after.Sum("farm_sweep_trials", ("sweep", id), ("state", "queued")) + after.Sum("farm_sweep_trials", ("sweep", id), ("state", "running")));
            // Results were stored: one write a result or a batch of them (short trials travel in batches), a resent one written again and ignored.
            Assert.True(after.Sum("farm_store_write_duration_seconds_count", ("operation", "result")) >= 1);
            Assert.Equal(1, after.Sum("farm_store_write_duration_seconds_count", ("operation", "submit")));
            Assert.Equal(1, after.Sum("http_server_request_duration_seconds_count", ("http_route", "/api/sweeps"), ("http_request_method", "POST"),
                ("http_response_status_code", "202")));

            // The workers: between them every trial, each counted by the worker that ran it, with its duration.
            var workers = new[] { await Scrape(scrape, m1), await Scrape(scrape, m2) };
            Assert.Equal(trials, workers.Sum(w => w.Sum("farm_worker_trials_total", ("outcome", "done"))));
            Assert.Equal(trials, workers.Sum(w => w.Sum("farm_trial_duration_seconds_count", ("outcome", "done"))));
            Assert.All(workers, w =>
            {
                Assert.Equal(1, w.Sum("farm_worker_slots"));
                Assert.Equal(0, w.Sum("farm_worker_slots_busy"));
                Assert.DoesNotContain(w, s => s.Name == "farm_sweep_trials"); // the sweeps are the coordinator's
                Assert.Equal(3, w.Sum("farm_cluster_members", ("status", "up")));
                Assert.Single(w.Select(s => s["worker"]).OfType<string>().Distinct()); // one worker per node, named in its series
            });
            Assert.DoesNotContain(after, s => s.Name == "farm_worker_trials_total"); // no worker role on the coordinator
    });
}
