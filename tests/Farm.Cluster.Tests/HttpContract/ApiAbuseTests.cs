using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Farm.Cluster.Http;
using Farm.Cluster.Protocol;
using Farm.Simulation.Config;
using Xunit;

namespace Farm.Cluster.Tests.HttpContract;

/// <summary>
/// The sixth round's review of the HTTP API (docs/failure-behaviour.md, "Sixth-round review"):
/// an envelope with a key given twice was a 500 naming an ArgumentException; submissions had no
/// bound, and 40 at once took a coordinator to 2.2 GB; a token of non-ASCII characters was taken
/// by farm serve although no farm client could ever send it.
/// </summary>
public class ApiAbuseTests
{
    private static async Task<string> ErrorOf(HttpResponseMessage r, HttpStatusCode expected)
    {
        string text = await r.Content.ReadAsStringAsync();
        Assert.True(expected == r.StatusCode, $"{(int)r.StatusCode} {text}");
        return (string)JsonNode.Parse(text)!["error"]!;
    }

    private static StringContent Envelope(string json) => new(json, Encoding.UTF8, FarmHttpApi.EnvelopeType);

    [Theory]
    [InlineData("""{"spec": "name: a\n", "spec": "name: b\n"}""", "spec")]
    [InlineData("""{"spec": "name: a\nworkload: w.yaml\n", "workloads": {"w.yaml": "kind: pt-clear\n", "w.yaml": "kind: wrprotect\n"}}""", "w.yaml")]
    public async Task AKeyGivenTwiceInAnEnvelope_Is400NamingIt_NotA500(string json, string key)
    {
        await using var api = await FakeCoordinatorApi.Start(FakeCoordinatorApi.KnowsNothing);
        string error = await ErrorOf(await api.Http.PostAsync("/api/sweeps", Envelope(json)), HttpStatusCode.BadRequest);
        Assert.Contains("malformed", error);
        Assert.Contains($"'{key}'", error); // System.Text.Json: "Duplicate property 'spec' encountered …"
        Assert.DoesNotContain("Exception", error);
        Assert.Empty(api.Unanswered); // nothing reached the coordinator
    }

    [Fact]
    public async Task SubmissionsOverTheLimit_Are429_WithRetryAfter_AndTheSlotIsGivenBack()
    {
        // The coordinator holds the first submission unanswered: it keeps the one submission slot.
        await using var api = await FakeCoordinatorApi.Start(m => m is SubmitSweep ? null : FakeCoordinatorApi.KnowsNothing(m),
            new HttpApiOptions { MaxSubmissions = 1 });
        var first = api.Http.PostAsync("/api/sweeps", new StringContent("name: first\n", Encoding.UTF8, "application/yaml"));
        Assert.True(api.Unanswered.TryTake(out var held, TimeSpan.FromMinutes(2)), "the first submission reached the coordinator"); // bounds a hang only

        var refused = await api.Http.PostAsync("/api/sweeps", new StringContent("name: second\n", Encoding.UTF8, "application/yaml"));
        Assert.Contains("too many submissions at once (the limit is 1)", await ErrorOf(refused, HttpStatusCode.TooManyRequests));
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter!.Delta);
        Assert.Empty(api.Unanswered); // the refused one never reached the coordinator
        // Other requests are not held back by a submission.
        Assert.Equal(HttpStatusCode.OK, (await api.Http.GetAsync("/api/sweeps")).StatusCode);

        held.ReplyTo.Tell(new SweepAccepted(new SweepId("00000000000000aa"), "first", 1, 1, 0, false), Akka.Actor.ActorRefs.NoSender);
        Assert.Equal(HttpStatusCode.Accepted, (await first).StatusCode);
        var third = api.Http.PostAsync("/api/sweeps", new StringContent("name: third\n", Encoding.UTF8, "application/yaml"));
        Assert.True(api.Unanswered.TryTake(out held, TimeSpan.FromMinutes(2)), "the slot was given back"); // bounds a hang only
        held.ReplyTo.Tell(new SweepRejected("refused by the stand-in"), Akka.Actor.ActorRefs.NoSender);
        Assert.Contains("refused by the stand-in", await ErrorOf(await third, HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task ABodySentSlowly_HoldsNoSubmissionSlot()
    {
        // A client that has sent half a body holds no slot: another submission is served meanwhile.
        await using var api = await FakeCoordinatorApi.Start(FakeCoordinatorApi.KnowsNothing, new HttpApiOptions { MaxSubmissions = 1 });
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(api.Http.BaseAddress!.Host, api.Http.BaseAddress.Port);
        await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /api/sweeps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {FakeCoordinatorApi.Token}\r\nContent-Type: application/yaml\r\nContent-Length: 1000\r\n\r\nname: "));
        Assert.Contains("refused by the stand-in", await ErrorOf(await api.Http.PostAsync("/api/sweeps",
            new StringContent("name: x\n", Encoding.UTF8, "application/yaml")), HttpStatusCode.BadRequest));
    }

    [Theory]
    [InlineData("tök")]
    [InlineData("токен")]
    [InlineData("t\U0001F600k")]
    public void ATokenThatIsNotPrintableAscii_IsRefused(string token)
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, token + "\n");
            var e = Assert.Throws<ConfigException>(() => BearerToken.Resolve(null, file));
            Assert.Contains("valid: 1 or more printable ASCII characters without spaces", e.Message);
            Assert.Throws<ConfigException>(() => BearerToken.Resolve(token, null));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
