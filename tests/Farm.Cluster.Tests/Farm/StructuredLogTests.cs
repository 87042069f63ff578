using System.Text.Json.Nodes;
using Farm.Cluster.Hosting;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Xunit;
using static Farm.Cluster.Tests.Farm.ClusterTestKit;

namespace Farm.Cluster.Tests.Farm;

/// <summary>
/// The log a container writes (FARM_LOG_FORMAT=json, as the image sets it): every line on stderr
/// that is not farm serve's own message is one JSON object, Akka's events among them, and each
/// state change of a sweep is one line with its ids as fields (docs/cluster.md, "Logs").
/// </summary>
[Collection(nameof(ClusterProcesses))]
[Trait("Category", "Slow")] // docs/testing.md: left out of the quick subset
public class StructuredLogTests
{
    private static readonly Dictionary<string, string> Json = new() { [NodeLogging.FormatVariable] = "json" };

    [Fact]
    public Task AJsonLog_HasOneLinePerStateChange_WithSweepTrialAndWorkerIds() => NodeLogs.Run(async () =>
    {
            string db = ClusterSweepTests.TempDb();
            int http = FreePort();
            // Akka's own Info events (membership) show that they go through the same log.
            string akkaInfo = Path.Combine(Path.GetTempPath(), $"farm-akka-info-{Guid.NewGuid():N}.conf");
            File.WriteAllText(akkaInfo, "akka.loglevel = INFO\n");
            string local = Path.Combine(RepoPaths.Root, "cluster-config", "local.conf");
            string id;
            IReadOnlyList<string> coordinatorLog;
            IReadOnlyList<string> workerLog;
            using (var coordinator = new ServeProcess(Json, "--roles", "coordinator", "--port", "0", "--db", db, "--http", $"http://127.0.0.1:{http}",
                       "--config", $"{local},{akkaInfo}"))
            {
                using (var worker = new ServeProcess(Json, "--roles", "worker", "--port", "0", "--seed-nodes", coordinator.Address, "--slots", "2", "--config", local))
                {
                    using var api = new Api($"http://127.0.0.1:{http}");
                    // pt-clear under 2 policies x 2 vCPU counts, 1 seed: 4 trials.
                    id = await api.Submit(ClusterSweepTests.SweepText("micro/pt-clear.yaml", 1));
                    await WaitForDone(api, id, 4);
                    worker.Terminate(); // leaves: the coordinator sees its worker go
                    Assert.Equal(0, await worker.WaitForExit(Stall));
                    await WaitUntil(() => Task.FromResult(Events(coordinator.Errors, 1007).Count > 0), Stall, "the coordinator logs the worker lost");
                    workerLog = worker.Errors;
                }
                coordinator.Terminate();
                Assert.Equal(0, await coordinator.WaitForExit(Stall));
                coordinatorLog = coordinator.Errors;
            }

            // Every log line is one JSON object (farm serve's own messages are plain text by design).
            foreach (string line in coordinatorLog.Concat(workerLog).Where(l => !l.StartsWith("farm serve:", StringComparison.Ordinal)))
                Assert.True(JsonNode.Parse(line) is JsonObject { } o && o["LogLevel"] is not null && o["Category"] is not null, line);

            using var store = new ResultStore(db);
            var trials = store.Results(new SweepId(id)).Select(i => i.Trial.Value).Order().ToArray();
            Assert.Equal(4, trials.Length);

            var submitted = Assert.Single(Events(coordinatorLog, 1001));
            Assert.Equal(id, Field(submitted, "SweepId"));
            Assert.Equal(4, (int)submitted["State"]!["Trials"]!);

            // Each trial dispatched once and its result stored once, to and from the one worker, in this sweep.
            var dispatched = Events(coordinatorLog, 1002);
            var stored = Events(coordinatorLog, 1003);
            Assert.Equal(trials, dispatched.Select(e => Field(e, "TrialId")).Order().ToArray());
            Assert.Equal(trials, stored.Select(e => Field(e, "TrialId")).Order().ToArray());
            Assert.All(dispatched.Concat(stored), e => Assert.Equal(id, Field(e, "SweepId")));
            string workerId = Field(Assert.Single(Events(coordinatorLog, 1006)), "WorkerId");
            Assert.All(dispatched.Concat(stored), e => Assert.Equal(workerId, Field(e, "WorkerId")));

            var done = Assert.Single(Events(coordinatorLog, 1005));
            Assert.Equal(id, Field(done, "SweepId"));
            Assert.Equal(4, (int)done["State"]!["Done"]!);
            Assert.Equal(0, (int)done["State"]!["Failed"]!);

            var lost = Assert.Single(Events(coordinatorLog, 1007));
            Assert.Equal(workerId, Field(lost, "WorkerId"));
            Assert.Equal(0, (int)lost["State"]!["Requeued"]!); // it left with nothing running

            Assert.Contains(coordinatorLog.Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!),
                e => ((string)e["Category"]!).StartsWith("Akka.", StringComparison.Ordinal) && (string)e["LogLevel"]! == "Information");
            File.Delete(akkaInfo);
    });

    private static List<JsonNode> Events(IEnumerable<string> log, int eventId) =>
        [.. log.Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!)
            .Where(e => (string)e["Category"]! == "Farm.Coordinator" && (int)e["EventId"]! == eventId)];

    private static string Field(JsonNode e, string name) => (string)e["State"]![name]!;
}
