using System.Text.Json.Nodes;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Farm.Cluster.Tests.Hosting;
using Xunit;
using static Farm.Cluster.Tests.Farm.ClusterTestKit;

namespace Farm.Cluster.Tests.Farm;

/// <summary>
/// Cluster formation as in Kubernetes, with config discovery standing in for the Kubernetes API:
/// no node is given a seed; Akka.Management bootstrap finds the contact points and forms the cluster.
/// </summary>
[Collection(nameof(ClusterProcesses))]
[Trait("Category", "Slow")] // docs/testing.md: left out of the quick subset
public class BootstrapTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(1) };

    private static async Task<int> Get(string url)
    {
        try
        {
            return (int)(await Http.GetAsync(url)).StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return 0; // not listening yet
        }
    }

    [Fact]
    public async Task ThreeProcesses_FormAClusterThroughBootstrap_AndASigtermedWorkerLeavesAndItsTrialRunsElsewhere()
    {
        string db = ClusterSweepTests.TempDb();
        int http = FreePort();
        int[] management = [FreePort(), FreePort(), FreePort()];
        string contactPoints = string.Join(',', management.Select(p => $"127.0.0.1:{p}"));
        string localConf = Path.Combine(RepoPaths.Root, "cluster-config", "local.conf");
        string[] Bootstrap(int i) => ["--port", "0", "--discovery", "config", "--management-port", $"{management[i]}",
            "--contact-points", contactPoints, "--required-contact-points", "3", "--config", localConf];

        using var coordinator = new ServeProcess([.. Bootstrap(0), "--roles", "coordinator", "--db", db, "--http", $"http://127.0.0.1:{http}"]);
        using var workerA = new ServeProcess([.. Bootstrap(1), "--roles", "worker", "--slots", "1"]);
        using var workerB = new ServeProcess([.. Bootstrap(2), "--roles", "worker", "--slots", "1"]);

        // Liveness answers at once; readiness only once bootstrap has made the node an Up member.
        Assert.Equal(200, await Get($"http://127.0.0.1:{management[1]}/alive"));
        foreach (int port in management)
            await WaitUntil(async () => await Get($"http://127.0.0.1:{port}/ready") == 200, Stall, $"node on {port} ready");

        // One cluster of three, learnt from a contact point as other nodes learn it.
        var seeds = JsonNode.Parse(await Http.GetStringAsync($"http://127.0.0.1:{management[0]}/bootstrap/seed-nodes"))!;
        var ports = seeds["Nodes"]!.AsArray().Select(n => (int)n!["Node"]!["Port"]!).Order().ToArray();
        Assert.Equal(new[] { coordinator.Address, workerA.Address, workerB.Address }.Select(a => int.Parse(a[(a.LastIndexOf(':') + 1)..])).Order(), ports);

        using var api = new Api($"http://127.0.0.1:{http}");
        // Four trials of a few seconds each, so that the SIGTERM lands while one runs.
        string id = await api.Submit(ClusterSweepTests.SweepText("micro/pt-clear.yaml", 1, "workload.rounds: 3000"));

        // SIGTERM a worker while it runs a trial: the first one seen running one (on a loaded machine
        // one worker may start late and the other take the first trials).
        static string Prefix(ServeProcess p) => p.Address[(p.Address.IndexOf('@') + 1)..] + "/";
        TrialRecord? interrupted = null;
        ServeProcess leaving = null!;
        await WaitUntil(() =>
        {
            using var store = new ResultStore(db);
            interrupted = store.Results(new SweepId(id)).Select(i => store.FindTrial(i.Trial)!)
                .FirstOrDefault(t => t.Status == "running" && t.Worker is { } w && (w.Value.StartsWith(Prefix(workerA), StringComparison.Ordinal) || w.Value.StartsWith(Prefix(workerB), StringComparison.Ordinal)));
            if (interrupted is not null) leaving = interrupted.Worker!.Value.Value.StartsWith(Prefix(workerA), StringComparison.Ordinal) ? workerA : workerB;
            return Task.FromResult(interrupted is not null);
        }, Stall, "a trial running on a worker");
        string leavingPrefix = Prefix(leaving);
        leaving.Terminate();

        // It leaves gracefully: exit code 0 after CoordinatedShutdown, saying so.
        Assert.Equal(0, await leaving.WaitForExit(Stall));
        Assert.Contains(leaving.Errors, l => l.Contains("left the cluster", StringComparison.Ordinal));

        await WaitForDone(api, id, 4, "all 4 trials done");
        using var after = new ResultStore(db);
        ClusterSweepTests.AssertEveryTrialStoredOnce(after.Results(new SweepId(id)), 4);
        var rerun = after.FindTrial(interrupted!.Id)!;
        Assert.Equal("done", rerun.Status);
        Assert.Equal(2, rerun.Attempts);
        Assert.False(rerun.Worker!.Value.Value.StartsWith(leavingPrefix, StringComparison.Ordinal), "the interrupted trial was re-run by another worker");
        Assert.Equal(200, await Get($"http://127.0.0.1:{management[0]}/ready"));
    }

    [Fact]
    public async Task ThreeProcesses_FormAClusterThroughKubernetesApiDiscovery_AndRunASweep()
    {
        // The API server lists three running pods (all on loopback, told apart by their named
        // management port), as it lists the coordinator and worker pods of k8s/.
        await using var kube = new FakeKubernetesApi();
        int[] management = [FreePort(), FreePort(), FreePort()];
        for (int i = 0; i < 3; i++) kube.Pods.Add(FakeKubernetesApi.Pod($"farm-{i}", "Running", "127.0.0.1", management[i]));
        string db = ClusterSweepTests.TempDb();
        int http = FreePort();
        string[] Node(int i) => ["--port", "0", "--discovery", "kubernetes", "--service-name", "farm", "--management-port", $"{management[i]}",
            "--required-contact-points", "3", "--config", kube.ConfigOverlayPath];

        using var coordinator = new ServeProcess([.. Node(0), "--roles", "coordinator", "--db", db, "--http", $"http://127.0.0.1:{http}"]);
        using var w1 = new ServeProcess([.. Node(1), "--roles", "worker", "--slots", "1"]);
        using var w2 = new ServeProcess([.. Node(2), "--roles", "worker", "--slots", "1"]);
        foreach (int port in management)
            await WaitUntil(async () => await Get($"http://127.0.0.1:{port}/ready") == 200, Stall, $"node on {port} ready");
        Assert.Contains(kube.Requests, r => r.Query == "?labelSelector=app.kubernetes.io%2Fname%3Dfarm");

        using var api = new Api($"http://127.0.0.1:{http}");
        string id = await api.Submit(ClusterSweepTests.SweepText("micro/wrprotect.yaml", 1));
        await WaitForDone(api, id, 4, "all 4 trials done");
        using var store = new ResultStore(db);
        ClusterSweepTests.AssertEveryTrialStoredOnce(store.Results(new SweepId(id)), 4);
    }
}
