using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Farm.Cluster.Client;
using Farm.Cluster.Hosting;
using Farm.Cluster.Http;
using Xunit;

namespace Farm.Cluster.Tests.Farm;

public sealed class HttpApiFixture : IAsyncLifetime
{
    public const string Token = "s3cret";
    public FarmNode Node { get; private set; } = null!;
    public Microsoft.AspNetCore.Builder.WebApplication Api { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Node = FarmNode.Start(new NodeOptions
        {
            Port = 0, Slots = 2, PollInterval = TimeSpan.FromMilliseconds(100),
            DatabasePath = Path.Combine(Path.GetTempPath(), $"farm-http-{Guid.NewGuid():N}.db"),
        });
        Api = FarmHttpApi.Build(new FarmClient(Node.System, Node.Coordinator), new HttpApiOptions { Url = "http://127.0.0.1:0", Token = Token, MaxBodyBytes = 64 * 1024 });
        await Api.StartAsync();
        Http = new HttpClient { BaseAddress = new Uri(Api.Urls.First()) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    }

    public async Task DisposeAsync()
    {
        await Api.StopAsync();
        await Node.DisposeAsync();
    }
}

[Collection(nameof(ClusterProcesses))]
public class HttpApiTests(HttpApiFixture farm) : IClassFixture<HttpApiFixture>
{
    private static string Good(int seeds = 2) =>
        $"name: http\nworkload: {Path.Combine(RepoPaths.Workloads, "micro/wrprotect.yaml")}\naxes:\n  policy: [kvm-3.1, kvm-3.3]\nseeds: {seeds}\n";

    /// <summary>A spec as farm submit sends it: with its workload files' text.</summary>
    internal static StringContent Envelope(string spec) =>
        new(SubmitEnvelope.Of(Sweeps.SweepSpec.Parse(spec, RepoPaths.Workloads)), Encoding.UTF8, FarmHttpApi.EnvelopeType);

    /// <summary>An envelope for a spec that may not parse: it carries the text of the one workload file the good spec names.</summary>
    private static StringContent RawEnvelope(string spec)
    {
        string workload = Path.Combine(RepoPaths.Workloads, "micro/wrprotect.yaml");
        var envelope = new JsonObject { ["spec"] = spec, ["workloads"] = new JsonObject { [workload] = File.ReadAllText(workload) } };
        return new StringContent(envelope.ToJsonString(), Encoding.UTF8, FarmHttpApi.EnvelopeType);
    }

    private static async Task<JsonNode> Body(HttpResponseMessage r) => JsonNode.Parse(await r.Content.ReadAsStringAsync())!;

    [Fact]
    public async Task Submit_Status_Results()
    {
        var submitted = await farm.Http.PostAsync("/api/sweeps", Envelope(Good()));
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        string id = (string)(await Body(submitted))["sweep"]!;

        JsonNode status = null!;
        await ClusterTestKit.WaitUntil(async () =>
        {
            status = await Body(await farm.Http.GetAsync($"/api/sweeps/{id}"));
            return (bool)status["complete"]!;
        }, ClusterTestKit.Stall, "the sweep complete");
        Assert.Equal(4, (int)status["done"]!);

        var results = (await Body(await farm.Http.GetAsync($"/api/sweeps/{id}/results"))).AsArray();
        Assert.Equal(4, results.Count);
        Assert.All(results, r => Assert.Equal("completed", (string)r!["result"]!["outcome"]!));
        Assert.Contains((await Body(await farm.Http.GetAsync("/api/sweeps"))).AsArray(), s => (string)s!["sweep"]! == id);

        var md = await farm.Http.GetAsync($"/api/sweeps/{id}/report?format=md");
        Assert.Equal(HttpStatusCode.OK, md.StatusCode);
        string text = await md.Content.ReadAsStringAsync();
        Assert.Contains("Before/after", text);
        Assert.Contains("name: http", text); // the sweep spec, for reproducing it
        var html = await farm.Http.GetAsync($"/api/sweeps/{id}/report");
        Assert.Equal("text/html", html.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, (await farm.Http.GetAsync($"/api/sweeps/{id}/report?format=pdf")).StatusCode);
    }

    public static TheoryData<string, string, int, string> BadRequests() => new()
    {
        { "bad YAML", "name: x\naxes: [1, 2\n", 400, "malformed YAML" },
        { "unknown top-level key", Good() + "colour: blue\n", 400, "colour" },
        { "unknown config key", Good() + "base:\n  mmu.bogus: 1\n", 400, "mmu.bogus" },
        { "wrong value type", Good() + "base:\n  vm.vcpus: lots\n", 400, "vm.vcpus" },
        { "empty axis", $"name: x\nworkload: {Path.Combine(RepoPaths.Workloads, "micro/wrprotect.yaml")}\naxes:\n  policy: []\n", 400, "policy" },
        { "too many trials", Good(seeds: 20_000), 400, "trials" },
        { "workload path without its text", "name: x\nworkload: /nowhere/w.yaml\n", 400, "not among the workload texts the submission carries" },
        { "empty body", "", 400, "empty body" },
        { "oversized body", Good() + "# " + new string('x', 70 * 1024) + "\n", 413, "limit" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadSubmissions_AreClear4xx_AndStoreNothing(string what, string body, int status, string mentions)
    {
        int before = (await Body(await farm.Http.GetAsync("/api/sweeps"))).AsArray().Count;
        var r = await farm.Http.PostAsync("/api/sweeps", body.Length == 0 ? new StringContent(body, Encoding.UTF8, "application/yaml") : RawEnvelope(body));
        Assert.True(status == (int)r.StatusCode, $"{what}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        Assert.Contains(mentions, (string)(await Body(r))["error"]!);
        Assert.Equal(before, (await Body(await farm.Http.GetAsync("/api/sweeps"))).AsArray().Count);
    }

    [Fact]
    public async Task MissingToken_Is401()
    {
        using var anonymous = new HttpClient { BaseAddress = farm.Http.BaseAddress };
        var r = await anonymous.PostAsync("/api/sweeps", new StringContent(Good(), Encoding.UTF8, "application/yaml"));
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        Assert.Contains("bearer token", (string)(await Body(r))["error"]!);
    }

    [Fact]
    public async Task UnknownSweep_Is404()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await farm.Http.GetAsync("/api/sweeps/0000000000000000")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await farm.Http.GetAsync("/api/sweeps/0000000000000000/results")).StatusCode);
    }

    [Fact]
    public void OffLoopback_WithoutToken_IsRefused()
    {
        var e = Assert.Throws<Simulation.Config.ConfigException>(() => new HttpApiOptions { Url = "http://0.0.0.0:8770" }.Validate());
        Assert.Contains("token", e.Message);
    }
}
