using System.ComponentModel;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Farm.Cluster.Http;
using Farm.Cluster.Sweeps;
using Farm.Simulation.Config;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Farm.Cli.Commands;

/// <summary>Options every command that talks to a coordinator's HTTP API shares.</summary>
public class ApiSettings : CommandSettings
{
    [CommandOption("--api <URL>")]
    [Description("The coordinator's HTTP API (default: $FARM_API or " + Farm.Cluster.Hosting.NodeDefaults.HttpUrl + ")")]
    public string? Api { get; init; }

    [CommandOption("--token <TOKEN>")]
    [Description("Bearer token; visible in ps: prefer --token-file or $FARM_API_TOKEN")]
    public string? Token { get; init; }

    [CommandOption("--token-file <FILE>")]
    [Description("Read the bearer token from FILE (default: $FARM_API_TOKEN_FILE, then $FARM_API_TOKEN)")]
    public string? TokenFile { get; init; }

    private string ApiUrl => Api ?? Environment.GetEnvironmentVariable("FARM_API") ?? Farm.Cluster.Hosting.NodeDefaults.HttpUrl;

    /// <summary>The API URL and the token source are checked before anything is sent (exit 2 with one line).</summary>
    public override ValidationResult Validate()
    {
        if (!Uri.TryCreate(ApiUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
            return ValidationResult.Error($"--api: '{ApiUrl}' is not valid; valid: the coordinator's API URL, e.g. http://127.0.0.1:8770");
        if (Token is not null && TokenFile is not null) return ValidationResult.Error("--token and --token-file: give one, not both");
        return ValidationResult.Success();
    }

    /// <summary>Throws <see cref="ConfigException"/> for an unreadable or malformed token file.</summary>
    internal HttpClient Client()
    {
        string? token = BearerToken.Resolve(Token, TokenFile);
        var client = new HttpClient { BaseAddress = new Uri(ApiUrl), Timeout = TimeSpan.FromMinutes(2) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Refuses an output file that cannot be written (its directory missing, or a directory itself) before asking the API.</summary>
    internal static void CheckOutputFile(string? path)
    {
        if (path is null) return;
        if (Directory.Exists(path)) throw new ConfigException($"-o: '{path}' is a directory; give a file name");
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null && !Directory.Exists(dir)) throw new ConfigException($"-o: the directory of '{path}' does not exist");
    }

    /// <summary>Prints the body; a non-2xx answer becomes the API's error message and exit code 2 (4xx) or 4.</summary>
    internal static async Task<int> Print(HttpResponseMessage response, string command, string? outputFile = null)
    {
        string body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            string message = OneLine(body);
            try { message = (string?)JsonNode.Parse(body)?["error"] ?? message; } catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException) { }
            Console.Error.WriteLine($"farm {command}: {(int)response.StatusCode} {message}");
            // 429 (too many requests at once) is not bad input: the same request may pass in a moment.
            return (int)response.StatusCode is >= 400 and < 500 and not 429 ? ExitCodes.BadInput : ExitCodes.TrialError;
        }
        if (outputFile is not null) File.WriteAllText(outputFile, body);
        else Console.Out.WriteLine(body);
        return ExitCodes.Completed;
    }

    /// <summary>
    /// A body that is not the API's JSON error (another server at --api, a proxy's HTML page) as one
    /// line: its first non-blank line, cut to 200 characters.
    /// </summary>
    internal static string OneLine(string body)
    {
        string line = body.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "(no body)";
        return line.Length > 200 ? line[..200] + "…" : line;
    }

    /// <summary>Sends one request and prints the answer. Bad local input (token file, output path) exits 2; an unreachable API 4.</summary>
    internal static async Task<int> Call(string command, ApiSettings settings, Func<HttpClient, Task<HttpResponseMessage>> request, string? outputFile = null)
    {
        HttpClient client;
        try
        {
            CheckOutputFile(outputFile);
            client = settings.Client();
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"farm {command}: {e.Message}");
            return ExitCodes.BadInput;
        }
        using (client)
        {
            try
            {
                return await Print(await request(client), command, outputFile);
            }
            catch (HttpRequestException e)
            {
                Console.Error.WriteLine($"farm {command}: cannot reach the coordinator at {client.BaseAddress}: {e.Message}");
                return ExitCodes.TrialError;
            }
            catch (TaskCanceledException)
            {
                Console.Error.WriteLine($"farm {command}: the coordinator at {client.BaseAddress} did not answer within {client.Timeout.TotalSeconds:0} s");
                return ExitCodes.TrialError;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) // writing -o FILE
            {
                Console.Error.WriteLine($"farm {command}: cannot write '{outputFile}': {e.Message}");
                return ExitCodes.BadInput;
            }
        }
    }
}

/// <summary><c>farm submit SWEEP.yaml</c>: sends the spec and the workload files it names.</summary>
public sealed class SubmitCommand : AsyncCommand<SubmitCommand.Settings>
{
    public sealed class Settings : ApiSettings
    {
        [CommandArgument(0, "<SWEEP>")]
        public string Sweep { get; init; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        SweepSpec spec;
        try
        {
            spec = SweepSpec.Load(settings.Sweep); // validated here first, so errors name the local file
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"farm submit: {e.Message}");
            return ExitCodes.BadInput;
        }
        var content = new StringContent(SubmitEnvelope.Of(spec), Encoding.UTF8, FarmHttpApi.EnvelopeType);
        return await ApiSettings.Call("submit", settings, client => client.PostAsync("/api/sweeps", content, cancellationToken));
    }
}

/// <summary><c>farm status [ID]</c></summary>
public sealed class StatusCommand : AsyncCommand<StatusCommand.Settings>
{
    public sealed class Settings : ApiSettings
    {
        [CommandArgument(0, "[ID]")]
        public string? Id { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        return await ApiSettings.Call("status", settings, client => client.GetAsync(settings.Id is null ? "/api/sweeps" : $"/api/sweeps/{Uri.EscapeDataString(settings.Id)}", cancellationToken));
    }
}

/// <summary><c>farm results ID [-o FILE]</c></summary>
public sealed class ResultsCommand : AsyncCommand<ResultsCommand.Settings>
{
    public sealed class Settings : ApiSettings
    {
        [CommandArgument(0, "<ID>")]
        public string Id { get; init; } = "";

        [CommandOption("-o|--output <FILE>")]
        public string? Output { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        return await ApiSettings.Call("results", settings, client => client.GetAsync($"/api/sweeps/{Uri.EscapeDataString(settings.Id)}/results", cancellationToken), settings.Output);
    }
}

/// <summary><c>farm cancel ID</c></summary>
public sealed class CancelCommand : AsyncCommand<CancelCommand.Settings>
{
    public sealed class Settings : ApiSettings
    {
        [CommandArgument(0, "<ID>")]
        public string Id { get; init; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        return await ApiSettings.Call("cancel", settings, client => client.PostAsync($"/api/sweeps/{Uri.EscapeDataString(settings.Id)}/cancel", null, cancellationToken));
    }
}
