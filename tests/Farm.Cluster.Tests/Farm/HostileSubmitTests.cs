using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Farm.Cluster.Http;
using Xunit;

namespace Farm.Cluster.Tests.Farm;

/// <summary>
/// The HTTP API never opens a path a client named (issue 16 item 3): a submission carries its
/// workloads' text, and whatever path a spec names (a secret, /dev/zero, a FIFO, nothing at all)
/// the answer is the same 400, so it tells nothing about the server's files.
/// </summary>
[Collection(nameof(ClusterProcesses))]
public class HostileSubmitTests(HttpApiFixture farm) : IClassFixture<HttpApiFixture>
{
    private static async Task<JsonNode> Body(HttpResponseMessage r) => JsonNode.Parse(await r.Content.ReadAsStringAsync())!;

    private async Task<int> SweepCount() => (await Body(await farm.Http.GetAsync("/api/sweeps"))).AsArray().Count;

    public static TheoryData<string> ServerPaths() => new()
    {
        "/etc/passwd",                                              // exists, readable, not YAML
        "/dev/zero",                                                // endless
        Path.Combine(RepoPaths.Workloads, "micro/wrprotect.yaml"),  // a valid workload file on the server
        "/nowhere/at/all.yaml",                                     // missing
        "../../../etc/hostname",                                    // relative
    };

    [Theory]
    [MemberData(nameof(ServerPaths))]
    public async Task APathWithoutItsText_Is400_AndTheSameWhateverThePathIs(string path)
    {
        int before = await SweepCount();
        foreach (string spec in new[] { $"name: x\nworkload: {path}\n", $"name: x\nworkloads:\n  - {{ file: \"{path}\" }}\n" })
        {
            var r = await farm.Http.PostAsync("/api/sweeps", new StringContent(spec, Encoding.UTF8, "application/yaml"));
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            string error = (string)(await Body(r))["error"]!;
            // The one message, with the path as the client wrote it and nothing about the server's file.
            Assert.Matches("^sweep:[23]: workload(s\\[0\\]\\.file)?: '.*' is not among the workload texts the submission carries; ", error);
            Assert.DoesNotContain("exist", error);
            Assert.DoesNotContain("kind", error);
        }
        Assert.Equal(before, await SweepCount());
    }

    [Fact]
    public async Task AFifoNamedByAClient_IsNeverOpened()
    {
        if (OperatingSystem.IsWindows()) return;
        string fifo = Path.Combine(Path.GetTempPath(), $"farm-fifo-{Guid.NewGuid():N}");
        using (var mk = System.Diagnostics.Process.Start("mkfifo", [fifo])) mk.WaitForExit();
        try
        {
            // Opening a FIFO with no writer blocks; before, the coordinator hung and every API call then failed.
            var envelope = new JsonObject { ["spec"] = $"name: x\nworkload: {fifo}\n", ["workloads"] = new JsonObject() };
            var r = await farm.Http.PostAsync("/api/sweeps", new StringContent(envelope.ToJsonString(), Encoding.UTF8, FarmHttpApi.EnvelopeType));
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("is not among the workload texts", (string)(await Body(r))["error"]!);
            Assert.Equal(HttpStatusCode.OK, (await farm.Http.GetAsync("/api/sweeps")).StatusCode);
        }
        finally
        {
            File.Delete(fifo);
        }
    }

    [Fact]
    public async Task TheSameSpecWithItsText_IsAccepted()
    {
        string path = "/etc/not-read-by-the-server/wrprotect.yaml"; // any name: only the shipped text is used
        string text = File.ReadAllText(Path.Combine(RepoPaths.Workloads, "micro/wrprotect.yaml"));
        var envelope = new JsonObject { ["spec"] = $"name: shipped\nworkload: {path}\nbase: {{ workload.pages: 2 }}\n", ["workloads"] = new JsonObject { [path] = text } };
        var r = await farm.Http.PostAsync("/api/sweeps", new StringContent(envelope.ToJsonString(), Encoding.UTF8, FarmHttpApi.EnvelopeType));
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
    }

    public static TheoryData<string, string, string> DeepBodies() => new()
    {
        { "YAML spec", "application/yaml", "name: x\nworkload: " + new string('[', 30_000) + new string(']', 30_000) + "\n" },
        { "JSON spec", "application/json", "{\"name\": " + new string('[', 30_000) + new string(']', 30_000) + "}" },
        { "envelope", FarmHttpApi.EnvelopeType, "{\"spec\": " + new string('[', 30_000) + new string(']', 30_000) + "}" },
        // 30,000 levels: under the fixture's 64 KiB body limit, far over the depth a stack can take.
        { "shipped workload", FarmHttpApi.EnvelopeType, new JsonObject
            {
                ["spec"] = "name: x\nworkload: w.yaml\n",
                ["workloads"] = new JsonObject { ["w.yaml"] = "kind: pt-clear\nconfig: " + new string('[', 30_000) + new string(']', 30_000) + "\n" },
            }.ToJsonString() },
    };

    [Theory]
    [MemberData(nameof(DeepBodies))]
    public async Task DeeplyNestedBodies_Are400NamingTheLimit_AndTheApiLivesOn(string what, string type, string body)
    {
        var r = await farm.Http.PostAsync("/api/sweeps", new StringContent(body, Encoding.UTF8, type));
        string error = (string)(await Body(r))["error"]!;
        Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)r.StatusCode} {error}");
        Assert.Contains("more than 64 levels deep; the limit is 64", error);
        Assert.Equal(HttpStatusCode.OK, (await farm.Http.GetAsync("/api/sweeps")).StatusCode);
    }
}
