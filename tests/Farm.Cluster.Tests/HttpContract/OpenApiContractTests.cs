using System.Text.Json;
using System.Text.Json.Nodes;
using Farm.Cluster.Http;
using Farm.Cluster.Protocol;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Farm.Cluster.Tests.HttpContract;

/// <summary>
/// Issue 17 item 3: the API's OpenAPI document, served at /openapi/v1.json, is the one checked in
/// as docs/openapi.json, it lists every route the API maps, and the bodies the API sends have the
/// names the document gives. Regenerate the file after changing a route or a body:
/// <c>FARM_WRITE_OPENAPI=1 dotnet test tests/Farm.Cluster.Tests -c Release --filter FullyQualifiedName~OpenApiContractTests</c>.
/// </summary>
public class OpenApiContractTests
{
    private static string CheckedIn => Path.Combine(RepoPaths.Root, "docs", "openapi.json");

    private static string Normalized(string json) =>
        JsonNode.Parse(json)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    private static async Task<JsonNode> Served(FakeCoordinatorApi api)
    {
        using var anonymous = new HttpClient { BaseAddress = api.Http.BaseAddress }; // the contract needs no token
        var r = await anonymous.GetAsync(FarmHttpApi.OpenApiPath);
        Assert.Equal(System.Net.HttpStatusCode.OK, r.StatusCode);
        return JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
    }

    [Fact]
    public async Task TheServedDocument_IsTheCheckedInOne()
    {
        await using var api = await FakeCoordinatorApi.Start(FakeCoordinatorApi.KnowsNothing);
        string served = Normalized((await Served(api)).ToJsonString());
        if (Environment.GetEnvironmentVariable("FARM_WRITE_OPENAPI") == "1") File.WriteAllText(CheckedIn, served);
        Assert.True(File.Exists(CheckedIn), "docs/openapi.json is missing; write it with FARM_WRITE_OPENAPI=1 (docs/operations.md)");
        Assert.True(Normalized(File.ReadAllText(CheckedIn)) == served,
            "docs/openapi.json differs from what the API serves: a route or a body changed. If the change is meant, regenerate it with "
            + "FARM_WRITE_OPENAPI=1 dotnet test tests/Farm.Cluster.Tests -c Release --filter FullyQualifiedName~OpenApiContractTests");
    }

    [Fact]
    public async Task EveryRouteOfTheApi_IsInTheDocument()
    {
        await using var api = await FakeCoordinatorApi.Start(FakeCoordinatorApi.KnowsNothing);
        var mapped = ((IEndpointRouteBuilder)api.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText != "/openapi/{documentName}.json")
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => $"{m} {e.RoutePattern.RawText}"))
            .Order().ToList();
        var documented = (await Served(api))["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(op => $"{op.Key.ToUpperInvariant()} {p.Key}"))
            .Order().ToList();
        Assert.Equal(7, mapped.Count); // health; submit, list, status, cancel, results, report
        Assert.Equal(mapped, documented);
    }

    [Fact]
    public async Task TheBodiesSent_HaveTheDocumentsNames()
    {
        var status = new SweepStatus(new SweepId("00000000000000aa"), "doc", 1, false, 10, 1, 2, 3, 4, 0);
        await using var api = await FakeCoordinatorApi.Start(m => m switch
        {
            GetStatus => new StatusReply([status], "the disk is full"),
            CancelSweep c => new SweepCancelled(c.Sweep, 3),
            SubmitSweep => new SweepAccepted(status.Sweep, "doc", 10, 7, 3, false),
            GetResultsPage g => new ResultsPage(g.Sweep,
            [
                new SweepResultItem(0, new TrialId("t0"), [new Setting("policy", "kvm-3.1")], "done", "{\"outcome\":\"completed\"}", null),
                new SweepResultItem(1, new TrialId("t1"), [new Setting("policy", "kvm-3.3")], "failed", null, "it threw"),
            ], null),
            _ => null,
        });
        var schemas = (await Served(api))["components"]!["schemas"]!;

        async Task Matches(HttpResponseMessage r, string schema)
        {
            var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!.AsObject();
            var properties = schemas[schema]!["properties"]!.AsObject().Select(p => p.Key).ToHashSet();
            var required = schemas[schema]!["required"]!.AsArray().Select(n => (string)n!).ToList();
            Assert.All(body.Select(p => p.Key), k => Assert.Contains(k, properties));
            Assert.All(required, k => Assert.True(body.ContainsKey(k), $"{schema}: '{k}' is required"));
        }

        var one = await api.Http.GetAsync("/api/sweeps/00000000000000aa");
        await Matches(one, "SweepProgress");
        Assert.Equal("the disk is full", (string)JsonNode.Parse(await one.Content.ReadAsStringAsync())!["store_error"]!);
        var cancel = await api.Http.PostAsync("/api/sweeps/00000000000000aa/cancel", null);
        await Matches(cancel, "CancelResponse");
        var submit = await api.Http.PostAsync("/api/sweeps", new StringContent("name: x\n", System.Text.Encoding.UTF8, "application/yaml"));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, submit.StatusCode);
        await Matches(submit, "SubmitResponse");
        Assert.Equal(7, (int)JsonNode.Parse(await submit.Content.ReadAsStringAsync())!["to_run"]!);

        // The results are written a page at a time by hand: they read back as the typed records say.
        string results = await api.Http.GetStringAsync("/api/sweeps/00000000000000aa/results");
        var items = JsonSerializer.Deserialize(results, FarmJsonContext.Default.IReadOnlyListSweepResult)!;
        Assert.Equal([0, 1], items.Select(i => i.Position));
        Assert.Equal("kvm-3.1", items[0].Labels["policy"]);
        Assert.Equal("completed", items[0].Result!.Value.GetProperty("outcome").GetString());
        Assert.Equal(("failed", "it threw", (JsonElement?)null), (items[1].Status, items[1].Error, items[1].Result));
        var itemSchema = schemas["SweepResult"]!["properties"]!.AsObject().Select(p => p.Key).ToHashSet();
        Assert.All(JsonNode.Parse(results)!.AsArray(), i => Assert.All(i!.AsObject().Select(p => p.Key), k => Assert.Contains(k, itemSchema)));
    }
}
