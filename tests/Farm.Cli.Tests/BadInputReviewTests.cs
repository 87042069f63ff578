using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace Farm.Cli.Tests;

/// <summary>
/// The sixth round's review of `farm` on bad input (docs/failure-behaviour.md, "Sixth-round
/// review"): each case here printed a message that named neither the option nor what is valid,
/// or a wrong one, or exited 1 ("a bug") after running a whole sweep.
/// </summary>
public sealed class BadInputReviewTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("farm-review-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static void AssertOneLine((int Code, string Out, string Err) r, int code, params string[] messages)
    {
        Assert.True(r.Code == code, $"exit {r.Code}, expected {code}\n{r.Out}\n{r.Err}");
        foreach (string m in messages) Assert.Contains(m, r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void ANumericOptionThatIsNotAWholeNumber_IsNamed()
    {
        // Spectre's own message was "Failed to convert 'abc' to Nullable`1." (no option, nothing valid).
        string workload = Write("w.yaml", "kind: pt-clear\n");
        AssertOneLine(FarmProcess.Run("run", workload, "--seeds", "abc"), 2, "farm: --seeds: 'abc' is not valid; valid: a whole number");
        AssertOneLine(FarmProcess.Run("run", workload, "--seeds=99999999999"), 2, "farm: --seeds: '99999999999' is not valid; valid: a whole number (at most 2147483647)");
        AssertOneLine(FarmProcess.Run("serve", "--port", "1e3"), 2, "farm: --port: '1e3' is not valid");
        // Without its value Spectre converted the name of its default command: "Failed to convert '__default_command' …".
        AssertOneLine(FarmProcess.Run("sweep", workload, "--slots"), 2, "farm: --slots: no value given; valid: a whole number");
        AssertOneLine(FarmProcess.Run("run", workload, "--seeds", "--format", "json"), 2, "farm: --seeds: no value given");
    }

    [Fact]
    public void SeedsPastTheLargestSeed_AreRefused_NotWrappedToANegativeSeed()
    {
        // Was "seed: -9223372036854775808 is out of range": seed + 1 wrapped.
        string workload = Write("w.yaml", "kind: pt-clear\n");
        AssertOneLine(FarmProcess.Run("run", workload, "--seed", "9223372036854775807", "--seeds", "2"), 2,
            "--seed 9223372036854775807 with --seeds 2 goes past the largest seed; valid: 0..9223372036854775806");
    }

    [Fact]
    public void ASweepOutputFileThatIsADirectory_Exits2_BeforeAnythingRuns()
    {
        // Was exit 1 "Access to the path '…/results.json' is denied." after every trial had run.
        string sweep = Write("s.yaml", "name: s\nworkload: w.yaml\n");
        Write("w.yaml", "kind: pt-clear\n");
        foreach (string taken in new[] { "results.json", "report.md" })
        {
            string output = Path.Combine(_dir, "out-" + taken);
            Directory.CreateDirectory(Path.Combine(output, taken));
            AssertOneLine(FarmProcess.Run("sweep", sweep, "-o", output), 2, $"-o: '{Path.Combine(output, taken)}' is a directory");
            Assert.False(File.Exists(Path.Combine(output, "farm.db")), "nothing ran");
        }
    }

    [Fact]
    public void AnUnknownReportFormat_SaysWhatIsValid_WithoutAParameterName()
    {
        var r = FarmProcess.Run("report", "0000000000000000", "--format", "pdf", "--api", "http://127.0.0.1:1");
        AssertOneLine(r, 2, "report format 'pdf' is not known; valid: html, md, csv, json");
        Assert.DoesNotContain("(Parameter", r.Err);
    }

    [Fact]
    public void ATokenFileOfNonAsciiCharacters_Exits2_BeforeAnythingIsSent()
    {
        // Was exit 4, "cannot reach the coordinator …: Request headers must contain only ASCII characters."
        AssertOneLine(FarmProcess.Run("status", "--api", "http://127.0.0.1:1", "--token-file", Write("token", "tök\n")), 2,
            "is not valid; valid: 1 or more printable ASCII characters without spaces");
    }

    /// <summary>Answers one HTTP request with <paramref name="response"/>, whatever it asks.</summary>
    private static async Task<(int Code, string Out, string Err)> AgainstAServerAnswering(string response, params string[] args)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var serve = Task.Run(async () =>
            {
                using var client = await listener.AcceptTcpClientAsync();
                var stream = client.GetStream();
                var reader = new StreamReader(stream, Encoding.ASCII);
                while (!string.IsNullOrEmpty(await reader.ReadLineAsync())) { } // the request's head; these requests have no body
                await stream.WriteAsync(Encoding.UTF8.GetBytes(response));
            });
            var r = await Task.Run(() => FarmProcess.Run([.. args, "--api", $"http://127.0.0.1:{port}"]));
            await serve;
            return r;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static string Http(string status, string type, string body) =>
        $"HTTP/1.1 {status}\r\nContent-Type: {type}\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";

    [Fact]
    public async Task AnErrorPageThatIsNotTheApis_IsOneLine()
    {
        // Another server at --api (or a proxy) answering an HTML page: its whole page went to standard error.
        var r = await AgainstAServerAnswering(Http("404 Not Found", "text/html", "\n<html>\n<body>\n<h1>Not Found</h1>\n</body>\n</html>\n"), "status");
        AssertOneLine(r, 2, "farm status: 404 <html>");
    }

    [Fact]
    public async Task TooManyRequests_Exits4_NotAsBadInput()
    {
        // 429 means "again in a moment", not "your input is wrong": a script retries on 4, not on 2.
        var r = await AgainstAServerAnswering(Http("429 Too Many Requests", "application/json",
            """{"error":"too many results/report requests at once (the limit is 4); try again shortly"}"""), "results", "00000000000000aa");
        AssertOneLine(r, 4, "farm results: 429 too many results/report requests at once");
    }
}
