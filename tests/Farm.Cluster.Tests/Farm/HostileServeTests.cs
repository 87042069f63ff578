using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Xunit;
using static Farm.Cluster.Tests.Farm.ClusterTestKit;

namespace Farm.Cluster.Tests.Farm;

/// <summary>
/// A real `farm serve` coordinator against hostile input: a spec nested 40,000 levels deep
/// killed it with a stack overflow (issue 16 item 1); the token can come from a file, off the
/// command line (item 10).
/// </summary>
[Collection(nameof(ClusterProcesses))]
[Trait("Category", "Slow")] // docs/testing.md: process-level, left out of the quick subset
public class HostileServeTests
{
    [Fact]
    public Task ASpecNested40000Deep_Is400_AndTheCoordinatorLivesOn() => NodeLogs.Run(async () =>
    {
            int http = FreePort();
            string tokenFile = Path.GetTempFileName();
            File.WriteAllText(tokenFile, "file-t0ken\n");
            try
            {
                using var node = new ServeProcess("--port", "0", "--db", ClusterSweepTests.TempDb(), "--http", $"http://127.0.0.1:{http}", "--token-file", tokenFile);
                using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}"), Timeout = TimeSpan.FromMinutes(1) };

                // The token from the file is required (and was never on the command line).
                Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/sweeps")).StatusCode);
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "file-t0ken");

                foreach (var (type, body) in new[]
                {
                    ("application/yaml", "name: x\nworkload: " + new string('[', 40_000) + new string(']', 40_000) + "\n"),
                    ("application/json", "{\"name\": " + new string('[', 40_000) + new string(']', 40_000) + "}"),
                })
                {
                    var r = await client.PostAsync("/api/sweeps", new StringContent(body, Encoding.UTF8, type));
                    string answer = await r.Content.ReadAsStringAsync();
                    Assert.True(r.StatusCode == HttpStatusCode.BadRequest, $"{type}: {(int)r.StatusCode} {answer}");
                    Assert.Contains("nested more than 64 levels deep; the limit is 64", answer);
                }
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/sweeps")).StatusCode); // the same process answers
            }
            finally
            {
                File.Delete(tokenFile);
            }
    });
}
