using System.Text.Json.Nodes;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Farm.Tests.Shared;
using Xunit;
using static Farm.Cluster.Tests.Farm.ClusterTestKit;
using static Farm.Cluster.Tests.Farm.HeldResults;

namespace Farm.Cluster.Tests.Farm;

/// <summary>
/// Store faults under real `farm serve` processes (issue 16, items 4, 6 and 7): a second
/// coordinator, a store that is read-only at start, a disk that fills, a file system that fails,
/// the database deleted, a coordinator restarted on a lost store. The process must never die
/// of them, must say what is wrong (status, /ready, its log), and must lose nothing it stored.
/// </summary>
[Collection(nameof(ClusterProcesses))]
[Trait("Category", "Slow")] // docs/testing.md: process-level, left out of the quick subset
public class StoreFaultProcessTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(4); // bounds a hang only
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>8 trials that take a while each, so that a fault lands between two results.</summary>
    private static string SlowSweep(int rounds = 300) => ClusterSweepTests.SweepText("micro/pt-clear.yaml", 2, $"workload.rounds: {rounds}");

    private static Proc.Result ServeToExit(params string[] args) =>
        Proc.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "farm.dll"), "serve", .. args], timeout: TimeSpan.FromMinutes(2));

    /// <summary>Coordinator and a one-slot worker in one process, with the HTTP API and the management probes.</summary>
    private static (ServeProcess Node, Api Api, string Ready) Farm(string db)
    {
        int http = FreePort(), management = FreePort();
        var node = new ServeProcess("--roles", "coordinator,worker", "--slots", "1", "--port", "0", "--db", db,
            "--http", $"http://127.0.0.1:{http}", "--management-port", $"{management}");
        return (node, new Api($"http://127.0.0.1:{http}"), $"http://127.0.0.1:{management}/ready");
    }

    /// <summary>What the API says is wrong with the store: status's store_error, or the error of a 503 when it cannot even read.</summary>
    private static async Task<string?> StoreProblem(Api api, string id)
    {
        var r = await api.Get($"/api/sweeps/{id}");
        if (r is null) return null;
        var body = JsonNode.Parse(r.Value.Body);
        return r.Value.Code switch
        {
            200 => (string?)body?["store_error"],
            503 => (string?)body?["error"],
            _ => null,
        };
    }

    private static async Task<JsonNode?> Ready(string url)
    {
        var r = await Http.GetAsync(url);
        return new JsonObject { ["code"] = (int)r.StatusCode, ["body"] = JsonNode.Parse(await r.Content.ReadAsStringAsync()) };
    }


    [Fact]
    public Task ASecondCoordinatorOnTheSameStore_IsRefused_AndTheFirstCarriesOn() => NodeLogs.Run(async () =>
    {
            string db = ClusterSweepTests.TempDb();
            var (first, api, _) = Farm(db);
            using (first)
            using (api)
            {
                string id = await api.Submit(ClusterSweepTests.SweepText("micro/wrprotect.yaml", 1));
                var second = ServeToExit("--roles", "coordinator", "--port", "0", "--db", db, "--http", "off");
                Assert.True(second.Code == 6, second.ToString());
                Assert.Contains("is another farm coordinator using this store?", second.Err);
                Assert.DoesNotContain("   at ", second.Err); // one clear line, no stack trace
                await WaitUntil(async () => await api.Done(id) == 4, Long, "the first coordinator's sweep done");
            }
    });

    [Fact]
    public async Task AStoreOnAReadOnlyFileSystem_IsRefusedAtStart()
    {
        using var fs = new Tmpfs("8m");
        string db = Path.Combine(fs.Path, "farm.db");
        new ResultStore(db).Dispose();
        fs.Remount("ro");
        var r = ServeToExit("--roles", "coordinator", "--port", "0", "--db", db, "--http", "off");
        Assert.True(r.Code == 6, r.ToString());
        Assert.True(r.Err.Contains("Read-only file system", StringComparison.Ordinal), r.ToString());
        Assert.Single(r.Err.Trim().Split('\n')); // one line
        Assert.DoesNotContain("ready ", r.Out);
    }

    [Fact]
    public Task ADiskThatFills_StopsDispatch_SaysSo_AndTheSweepFinishesOnceThereIsRoom_EveryTrialRunOnce() => NodeLogs.Run(async () =>
    {
            using var fs = new Tmpfs("32m");
            string db = Path.Combine(fs.Path, "farm.db");
            var (node, api, ready) = Farm(db);
            string id;
            using (node)
            using (api)
            {
                id = await api.Submit(SlowSweep());
                await WaitUntil(async () => await api.Done(id) >= 1, Long, "a first result");
                string filler = fs.Fill();

                // The next result cannot be written: the node stays up and says why, everywhere.
                await WaitUntil(async () => await StoreProblem(api, id) is not null, Long, "status shows the store error");
                Assert.Contains("the disk is full", await StoreProblem(api, id));
                var probe = await Ready(ready);
                Assert.Equal(503, (int)probe!["code"]!);
                Assert.Contains("the disk is full", (string)probe["body"]!["store"]!);

                File.Delete(filler);
                await WaitUntil(async () => await StoreProblem(api, id) is null, Long, "the store takes writes again");
                Assert.Equal(200, (int)(await Ready(ready))!["code"]!);
                await WaitUntil(async () => await api.Done(id) == 8, Long, "all 8 trials done");
                node.Kill();
                await node.WaitForExit(TimeSpan.FromMinutes(1));
                Assert.Contains(node.Errors, l => l.Contains("the disk is full", StringComparison.Ordinal)); // the log is on stderr
            }
            using var store = new ResultStore(db);
            ClusterSweepTests.AssertEveryTrialStoredOnce(store.Results(new SweepId(id)), 8);
            Assert.All(store.Results(new SweepId(id)), i => Assert.Equal(1, store.FindTrial(i.Trial)!.Attempts)); // none ran twice
    });

    [Fact]
    public Task AFileSystemThatFailsUnderTheStore_DoesNotKillTheNode_AndWhatWasStoredIsKept() => NodeLogs.Run(async () =>
    {
            using var fs = new Ext4(64);
            string db = Path.Combine(fs.Path, "farm.db");
            var (node, api, ready) = Farm(db);
            string id;
            int doneBefore;
            using (node)
            using (api)
            {
                id = await api.Submit(SlowSweep());
                await WaitUntil(async () => await api.Done(id) >= 1, Long, "a first result");
                doneBefore = await api.Done(id);
                fs.Shutdown(); // every write fails from here on

                await WaitUntil(async () => await StoreProblem(api, id) is not null, Long, "status shows the store error");
                string problem = (await StoreProblem(api, id))!;
                // SQLite reads the failing file as an I/O error or a malformed image; the file is sound (opened and checked below).
                Assert.Matches("I/O error|damaged", problem);
                Assert.Equal(503, (int)(await Ready(ready))!["code"]!);
                Assert.Null(await node.WaitForExit(TimeSpan.Zero)); // alive: once a SIGBUS on the WAL's mapped index
                node.Kill();
                await node.WaitForExit(TimeSpan.FromMinutes(1));
            }
            fs.Unmount();
            fs.Mount();
            using var store = new ResultStore(db);
            Assert.True(store.Status(new SweepId(id)).Done >= doneBefore, "every result acknowledged before the fault is still stored");
    });

    [Fact]
    public Task TheDatabaseDeletedMidSweep_IsNoticed_DispatchStops_AndItsContentsAreSaved() => NodeLogs.Run(async () =>
    {
            string dir = Path.Combine(Path.GetTempPath(), $"farm-deleted-{Guid.NewGuid():N}");
            string db = Path.Combine(dir, "farm.db");
            var (node, api, ready) = Farm(db);
            using (node)
            using (api)
            {
                string id = await api.Submit(SlowSweep());
                await WaitUntil(async () => await api.Done(id) >= 1, Long, "a first result");
                File.Delete(db);
                File.Delete(db + "-wal");

                await WaitUntil(async () => await StoreProblem(api, id) is not null, Long, "status shows the store error");
                string error = (await StoreProblem(api, id))!;
                Assert.Contains("deleted, moved or replaced", error);
                Assert.Equal(503, (int)(await Ready(ready))!["code"]!);
                int done = await api.Done(id);
                node.Kill();
                await node.WaitForExit(TimeSpan.FromMinutes(1));

                // Everything the store held is in the copy the error names; serving on it carries on.
                string copy = Assert.Single(Directory.GetFiles(dir, "farm.db.recovered-*"), f => !f.EndsWith("-wal", StringComparison.Ordinal));
                Assert.Contains(copy, error);
                using var store = new ResultStore(copy);
                Assert.Equal(done, store.Status(new SweepId(id)).Done);
                Assert.True(done >= 1);
            }
    });

    /// <summary>
    /// Issue 16 item 4 with real processes. The coordinator is frozen (SIGSTOP) while each worker
    /// runs a trial of its store's sweep, so that the workers finish them and hold their results
    /// unacknowledged; then it is killed and comes back as a new incarnation of the same address
    /// (what a restarted service does) on an empty store, joining through the workers. Akka removes
    /// the old incarnation when the new one asks to join (cluster.md, "What happens when things
    /// fail"), so the split-brain resolver decides nothing here, and failure detection is patient:
    /// nothing alive is ever unreachable on a loaded machine. The workers send the held results to
    /// the new coordinator, which does not know them: each is acknowledged and dropped, logged once,
    /// while a new sweep runs each of its trials once.
    /// </summary>
    [Fact]
    public Task ACoordinatorRestartedOnALostStore_DropsTheOldResults_AndRunsEachNewTrialOnce() => NodeLogs.Run(async () =>
    {
            string lostDb = ClusterSweepTests.TempDb(), newDb = ClusterSweepTests.TempDb();
            string patient = Path.Combine(Path.GetTempPath(), $"farm-patient-{Guid.NewGuid():N}.conf");
            File.WriteAllText(patient, "akka.cluster.failure-detector.acceptable-heartbeat-pause = 60s\n");
            int http = FreePort(), remoting = FreePort(), m1 = FreePort(), m2 = FreePort();
            string[] Coordinator(string db) =>
                ["--roles", "coordinator", "--port", $"{remoting}", "--db", db, "--http", $"http://127.0.0.1:{http}", "--config", patient];
            string[] Worker(string seed, int management) =>
                ["--roles", "worker", "--port", "0", "--seed-nodes", seed, "--slots", "1", "--management-port", $"{management}", "--config", patient];
            using var first = new ServeProcess(Coordinator(lostDb)); // killed, frozen or not, whatever fails
            using var w1 = new ServeProcess(Worker(first.Address, m1));
            using var w2 = new ServeProcess(Worker(first.Address, m2));
            using var api = new Api($"http://127.0.0.1:{http}");
            // Trials of a few seconds each, so that the freeze lands in the first ones.
            string old = await api.Submit(ClusterSweepTests.SweepText("micro/pt-clear.yaml", 4, "workload.rounds: 1000"));
            int held = (await FreezeUntilWorkersHoldResults_ThenKill(first, m1, m2, Long)).Total;
            HashSet<TrialId> oldTrials;
            using (var lost = new ResultStore(lostDb))
                oldTrials = [.. lost.Results(new SweepId(old)).Select(i => i.Trial)];

            using var second = new ServeProcess([.. Coordinator(newDb), "--seed-nodes", $"{w1.Address},{w2.Address}"]);
            // The singleton starts once the new incarnation has joined: until then the API answers 503.
            await WaitUntil(async () => (await api.Get("/api/sweeps"))?.Code == 200, Long, "the new coordinator answers");
            string id = await api.Submit(SlowSweep(301)); // other trials than the old sweep's
            await WaitForDone(api, id, 8);
            await WaitUntil(async () => (await WorkerState(m1)) == (0, 0) && (await WorkerState(m2)) == (0, 0), Long, "every result acknowledged");

            // Every node is still up and in one cluster: nobody was downed, and the coordinator never
            // died of a stale result.
            Assert.Null(await second.WaitForExit(TimeSpan.Zero));
            foreach (int m in new[] { m1, m2 })
            {
                var members = PrometheusText.Parse(await Http.GetStringAsync($"http://127.0.0.1:{m}/metrics"));
                Assert.Equal(3, members.Sum("farm_cluster_members", ("status", "up")));
                Assert.Equal(0, members.Sum("farm_cluster_members", ("status", "down")));
            }
            Assert.Equal(0, (int)(await api.Status(id))!["failed"]!);
            second.Kill(); // the store is the coordinator's alone while it runs
            Assert.NotNull(await second.WaitForExit(Long));

            // Each held result dropped and logged once, though its worker sent it every poll until the
            // acknowledgement came; each is a trial of the lost store's sweep (running there, or done with
            // its acknowledgement lost in the kill).
            var drops = second.Errors.Where(l => l.Contains("coordinator: dropped a report from worker", StringComparison.Ordinal))
                .Select(l => new TrialId(System.Text.RegularExpressions.Regex.Match(l, "for trial ([0-9a-f]{16})").Groups[1].Value)).ToList();
            Assert.Equal(held, drops.Count);
            Assert.Equal(held, drops.Distinct().Count());
            Assert.Subset(oldTrials, drops.ToHashSet());
            using var store = new ResultStore(newDb);
            ClusterSweepTests.AssertEveryTrialStoredOnce(store.Results(new SweepId(id)), 8);
            // Once 24 of 30 ran twice: a restart per unknown result re-queued the running trials.
            Assert.All(store.Results(new SweepId(id)), i => Assert.Equal(1, store.FindTrial(i.Trial)!.Attempts));
            Assert.All(drops, t => Assert.Null(store.FindTrial(t))); // dropped, not stored
            Assert.Null(store.FindSweep(new SweepId(old)));
    });
}
