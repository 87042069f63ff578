using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Farm.Cluster.Http;
using Farm.Cluster.Protocol;
using Xunit;

namespace Farm.Cluster.Tests.HttpContract;

/// <summary>
/// Issue 17 item 3: every error of the HTTP API, one test per class, is a JSON body
/// <c>{"error": "..."}</c> with the status that says what kind (docs/cluster.md), including what
/// routing and the web server answer before any handler runs.
/// </summary>
public class ApiErrorTests
{
    private static async Task<string> ErrorOf(HttpResponseMessage r, HttpStatusCode expected)
    {
        string text = await r.Content.ReadAsStringAsync();
        Assert.True(expected == r.StatusCode, $"{(int)r.StatusCode} {text}");
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(["error"], body.Select(p => p.Key));
        string error = (string)body["error"]!;
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error;
    }

    [Fact]
    public async Task BadRequests_Are400()
    {
        await using var api = await FakeCoordinatorApi.Start(FakeCoordinatorApi.KnowsNothing);
        Assert.Contains("empty body", await ErrorOf(await api.Http.PostAsync("/api/sweeps", new StringContent("", Encoding.UTF8, "application/yaml")), HttpStatusCode.BadRequest));
        Assert.Contains("pdf", await ErrorOf(await api.Http.GetAsync("/api/sweeps/00000000000000aa/report?format=pdf"), HttpStatusCode.BadRequest));
        Assert.Contains("malformed JSON", await ErrorOf(await api.Http.PostAsync("/api/sweeps",
            new StringContent("{\"spec\": ", Encoding.UTF8, FarmHttpApi.EnvelopeType)), HttpStatusCode.BadRequest));
        Assert.Contains("refused by the stand-in", await ErrorOf(await api.Http.PostAsync("/api/sweeps",
            new StringContent("name: x\n", Encoding.UTF8, "application/yaml")), HttpStatusCode.BadRequest)); // the coordinator's SweepRejected
    }

    [Fact]
    public async Task AMissingOrWrongToken_Is401_ExceptForHealthAndTheContract()
    {
        await using var api = await FakeCoordinatorApi.Start(FakeCoordinatorApi.KnowsNothing);
        using var anonymous = new HttpClient { BaseAddress = api.Http.BaseAddress };
        Assert.Contains("bearer token", await ErrorOf(await anonymous.GetAsync("/api/sweeps"), HttpStatusCode.Unauthorized));
        Assert.Contains("bearer token", await ErrorOf(await anonymous.GetAsync("/no/such/route"), HttpStatusCode.Unauthorized)); // says nothing about routes
        anonymous.DefaultRequestHeaders.Authorization = new("Bearer", FakeCoordinatorApi.Token + "x");
        Assert.Contains("bearer token", await ErrorOf(await anonymous.PostAsync("/api/sweeps/00000000000000aa/cancel", null), HttpStatusCode.Unauthorized));
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(FarmHttpApi.OpenApiPath)).StatusCode);
    }

    [Fact]
    public async Task UnknownRoutesAndSweeps_Are404()
    {
        await using var api = await FakeCoordinatorApi.Start(FakeCoordinatorApi.KnowsNothing);
        Assert.Contains("no route GET /api/nowhere", await ErrorOf(await api.Http.GetAsync("/api/nowhere"), HttpStatusCode.NotFound));
        Assert.Contains("no route GET /", await ErrorOf(await api.Http.GetAsync("/"), HttpStatusCode.NotFound));
        foreach (string path in new[] { "/api/sweeps/00000000000000aa", "/api/sweeps/00000000000000aa/results", "/api/sweeps/00000000000000aa/report" })
            Assert.Contains("no sweep '00000000000000aa'", await ErrorOf(await api.Http.GetAsync(path), HttpStatusCode.NotFound));
        Assert.Contains("no sweep", await ErrorOf(await api.Http.PostAsync("/api/sweeps/00000000000000aa/cancel", null), HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task AMethodTheRouteDoesNotTake_Is405_NamingTheAllowedOnes()
    {
        await using var api = await FakeCoordinatorApi.Start(FakeCoordinatorApi.KnowsNothing);
        var delete = await api.Http.DeleteAsync("/api/sweeps");
        Assert.Equal("DELETE is not allowed on /api/sweeps; allowed: GET, POST", await ErrorOf(delete, HttpStatusCode.MethodNotAllowed));
        Assert.Contains("allowed: POST", await ErrorOf(await api.Http.GetAsync("/api/sweeps/00000000000000aa/cancel"), HttpStatusCode.MethodNotAllowed));
        Assert.Contains("allowed: GET", await ErrorOf(await api.Http.PostAsync("/health", null), HttpStatusCode.MethodNotAllowed));
    }

    [Fact]
    public async Task ABodyOverTheLimit_Is413_WithOrWithoutItsLength()
    {
        await using var api = await FakeCoordinatorApi.Start(FakeCoordinatorApi.KnowsNothing, new HttpApiOptions { MaxBodyBytes = 1024 });
        string big = "name: x\n# " + new string('x', 2048) + "\n";
        Assert.Contains("over the limit of 1024", await ErrorOf(await api.Http.PostAsync("/api/sweeps", new StringContent(big, Encoding.UTF8, "application/yaml")),
            HttpStatusCode.RequestEntityTooLarge));
        // Chunked, no Content-Length: the server finds out while reading. Written whole before the answer is
        // read (HttpClient would still be sending when the server answers and closes, and report that instead).
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(api.Http.BaseAddress!.Host, api.Http.BaseAddress.Port);
        var stream = tcp.GetStream();
        string request = $"POST /api/sweeps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {FakeCoordinatorApi.Token}\r\nContent-Type: application/yaml\r\n"
            + $"Transfer-Encoding: chunked\r\n\r\n{Encoding.UTF8.GetByteCount(big):x}\r\n{big}\r\n0\r\n\r\n";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request));
        string answer = await new StreamReader(stream).ReadToEndAsync(); // the server closes after a refused body
        Assert.StartsWith("HTTP/1.1 413 ", answer);
        Assert.Contains("application/json", answer);
        Assert.Contains("{\"error\":\"request body is over the limit of 1024 bytes\"}", answer);
    }

    [Fact]
    public async Task HeavyRequestsOverTheLimit_Are429_WithRetryAfter()
    {
        // The coordinator holds the first results request unanswered: it keeps the one heavy slot.
        await using var api = await FakeCoordinatorApi.Start(m => m is GetResultsPage ? null : FakeCoordinatorApi.KnowsNothing(m),
            new HttpApiOptions { MaxHeavyRequests = 1 });
        var first = api.Http.GetAsync("/api/sweeps/00000000000000aa/results");
        Assert.True(api.Unanswered.TryTake(out var held, TimeSpan.FromMinutes(2)), "the first request reached the coordinator"); // bounds a hang only
        var refused = await api.Http.GetAsync("/api/sweeps/00000000000000aa/report?format=md");
        Assert.Contains("too many results/report requests at once (the limit is 1)", await ErrorOf(refused, HttpStatusCode.TooManyRequests));
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter!.Delta);
        held.ReplyTo.Tell(new UnknownSweep(((GetResultsPage)held.Request).Sweep), Akka.Actor.ActorRefs.NoSender);
        Assert.Contains("no sweep", await ErrorOf(await first, HttpStatusCode.NotFound)); // the slot is given back
        Assert.Contains("no sweep", await ErrorOf(await api.Http.GetAsync("/api/sweeps/00000000000000ab/report"), HttpStatusCode.NotFound)); // served again
    }

    [Fact]
    public async Task AnUnavailableStoreOrASilentCoordinator_Is503()
    {
        await using (var api = await FakeCoordinatorApi.Start(_ => new RequestFailed("store /data/farm.db: the disk is full", Unavailable: true)))
        {
            Assert.Contains("the disk is full", await ErrorOf(await api.Http.GetAsync("/api/sweeps"), HttpStatusCode.ServiceUnavailable));
            Assert.Contains("the disk is full", await ErrorOf(await api.Http.PostAsync("/api/sweeps", new StringContent("name: x\n", Encoding.UTF8, "application/yaml")),
                HttpStatusCode.ServiceUnavailable));
        }
        await using (var api = await FakeCoordinatorApi.Start(_ => null, askTimeout: TimeSpan.FromMilliseconds(200)))
            Assert.Contains("did not answer in time", await ErrorOf(await api.Http.GetAsync("/api/sweeps/00000000000000aa"), HttpStatusCode.ServiceUnavailable));
    }

    [Fact]
    public async Task AnUnexpectedFailure_Is500_AndTheApiCarriesOn()
    {
        int asked = 0;
        await using var api = await FakeCoordinatorApi.Start(m => Interlocked.Increment(ref asked) == 1
            ? new RequestFailed("the coordinator could not handle the request: NullReferenceException: boom", Unavailable: false)
            : FakeCoordinatorApi.KnowsNothing(m));
        Assert.Contains("boom", await ErrorOf(await api.Http.GetAsync("/api/sweeps"), HttpStatusCode.InternalServerError));
        Assert.Equal(HttpStatusCode.OK, (await api.Http.GetAsync("/api/sweeps")).StatusCode);
    }
}
