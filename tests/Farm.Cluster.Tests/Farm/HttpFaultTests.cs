using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;

namespace Farm.Cluster.Tests.Farm;

/// <summary>
/// Requests that used to hang, restart the coordinator or exhaust it (issue 16, items 5 and 8):
/// each is answered at once with a status and a JSON error, and the coordinator carries on.
/// </summary>
[Collection(nameof(ClusterProcesses))]
public class HttpFaultTests(HttpApiFixture farm) : IClassFixture<HttpApiFixture>
{
    /// <summary>A spec's workload as the API takes it: named in the spec, its text in the envelope (the server opens no path).</summary>
    private const string Workload = "w.yaml";

    private Task<HttpResponseMessage> PostSpec(string spec) => PostEnvelope(new JsonObject
    {
        ["spec"] = spec,
        ["workloads"] = new JsonObject { [Workload] = File.ReadAllText(Path.Combine(RepoPaths.Workloads, "micro/wrprotect.yaml")) },
    }.ToJsonString());

    private static async Task<JsonNode> Body(HttpResponseMessage r) => JsonNode.Parse(await r.Content.ReadAsStringAsync())!;

    private Task<HttpResponseMessage> PostEnvelope(string json) =>
        farm.Http.PostAsync("/api/sweeps", new StringContent(json, Encoding.UTF8, Http.FarmHttpApi.EnvelopeType));

    public static TheoryData<string, string, string> BadEnvelopes() => new()
    {
        { "null workload text", """{"spec": "name: x\nworkload: w.yaml\n", "workloads": {"w.yaml": null}}""", "workloads['w.yaml'] is null" },
        { "workload text a number", """{"spec": "name: x\nworkload: w.yaml\n", "workloads": {"w.yaml": 3}}""", "must be a string" },
        { "workloads a list", """{"spec": "name: x\n", "workloads": ["w.yaml"]}""", "must be an object" },
        { "spec null", """{"spec": null}""", "no 'spec'" },
        { "spec an object", """{"spec": {"name": "x"}}""", "'spec' must be a string" },
        { "unknown key", """{"spec": "name: x\n", "workload": {}}""", "unknown key 'workload'" },
        { "not an object", """["spec"]""", "must be a JSON object" },
        { "not JSON", """{"spec": """, "malformed JSON" },
    };

    [Theory]
    [MemberData(nameof(BadEnvelopes))]
    public async Task BadEnvelopes_Are400AtOnce_AndTheCoordinatorCarriesOn(string what, string json, string mentions)
    {
        var r = await PostEnvelope(json);
        Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        Assert.Contains(mentions, (string)(await Body(r))["error"]!);
        Assert.Equal(HttpStatusCode.OK, (await farm.Http.GetAsync("/api/sweeps")).StatusCode);
    }

    [Fact]
    public async Task AHugeAxis_IsCountedBeforeItsValuesAreChecked()
    {
        // 10,001 values (all the same: the duplicate would only be found value by value) × 1 seed
        // is over the 10,000-trial cap: refused on the count, from the list's length.
        string spec = $"name: huge\nworkload: {Workload}\naxes:\n  vm.vcpus: [{string.Join(',', Enumerable.Repeat("1", 10_001))}]\n";
        var r = await PostSpec(spec);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        string error = (string)(await Body(r))["error"]!;
        Assert.Contains("expands to 10001 trials", error);
        Assert.Contains("the limit is 10000", error);
    }

    [Fact]
    public async Task HeavyRequests_BeyondTheLimit_Are429WithAJsonError_NeverATimeout()
    {
        string spec = $"name: heavy\nworkload: {Workload}\naxes:\n  policy: [kvm-3.1, kvm-3.3]\n";
        var submitted = await PostSpec(spec);
        string id = (string)(await Body(submitted))["sweep"]!;

        // Many at once against a limit of 4: each is served or refused at once, none waits for a timeout.
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            farm.Http.GetAsync(i % 2 == 0 ? $"/api/sweeps/{id}/results" : $"/api/sweeps/{id}/report?format=md")));
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        foreach (var refused in responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests))
        {
            Assert.Contains("too many results/report requests at once", (string)(await Body(refused))["error"]!);
            Assert.NotNull(refused.Headers.RetryAfter);
        }
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        Console.WriteLine($"heavy requests: {responses.Count(r => r.StatusCode == HttpStatusCode.OK)} served, {responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests)} refused (429)");
    }
}
