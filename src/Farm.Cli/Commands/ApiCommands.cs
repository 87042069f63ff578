using System.ComponentModel;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Farm.Cluster.Http;
using Farm.Cluster.Sweeps;
using Farm.Simulation.Config;
using Spectre.Console.Cli;

namespace Farm.Cli.Commands;

/// <summary>Options every command that talks to a coordinator's HTTP API shares.</summary>
public class ApiSettings : CommandSettings
{
    [CommandOption("--api <URL>")]
    [Description("The coordinator's HTTP API (default: $FARM_API or http://127.0.0.1:8770)")]
    public string? Api { get; init; }

    [CommandOption("--token <TOKEN>")]
    [Description("Bearer token (default: $FARM_API_TOKEN)")]
    public string? Token { get; init; }

    internal HttpClient Client()
    {
        var client = new HttpClient { BaseAddress = new Uri(Api ?? Environment.GetEnvironmentVariable("FARM_API") ?? "http://127.0.0.1:8770"), Timeout = TimeSpan.FromMinutes(2) };
        string? token = Token ?? Environment.GetEnvironmentVariable("FARM_API_TOKEN");
        if (!string.IsNullOrEmpty(token)) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Prints the body; a non-2xx answer becomes the API's error message and exit code 2 (4xx) or 4.</summary>
    internal static async Task<int> Print(HttpResponseMessage response, string command, string? outputFile = null)
    {
        string body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            string message = body;
            try { message = (string?)JsonNode.Parse(body)?["error"] ?? body; } catch (System.Text.Json.JsonException) { }
            Console.Error.WriteLine($"farm {command}: {(int)response.StatusCode} {message}");
            return (int)response.StatusCode is >= 400 and < 500 ? ExitCodes.BadInput : ExitCodes.TrialError;
        }
        if (outputFile is not null) File.WriteAllText(outputFile, body);
        else Console.Out.WriteLine(body);
        return ExitCodes.Completed;
    }

    internal static async Task<int> Call(string command, Func<Task<HttpResponseMessage>> request, string? outputFile = null)
    {
        try
        {
            return await Print(await request(), command, outputFile);
        }
        catch (HttpRequestException e)
        {
            Console.Error.WriteLine($"farm {command}: cannot reach the coordinator: {e.Message}");
            return ExitCodes.TrialError;
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
        var envelope = new JsonObject
        {
            ["spec"] = File.ReadAllText(settings.Sweep),
            ["workloads"] = new JsonObject(spec.Workloads.Select(w => KeyValuePair.Create(w.Path, (JsonNode?)w.Text))),
        };
        using var client = settings.Client();
        var content = new StringContent(envelope.ToJsonString(), Encoding.UTF8, FarmHttpApi.EnvelopeType);
        return await ApiSettings.Call("submit", () => client.PostAsync("/api/sweeps", content, cancellationToken));
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
        using var client = settings.Client();
        return await ApiSettings.Call("status", () => client.GetAsync(settings.Id is null ? "/api/sweeps" : $"/api/sweeps/{Uri.EscapeDataString(settings.Id)}", cancellationToken));
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
        using var client = settings.Client();
        return await ApiSettings.Call("results", () => client.GetAsync($"/api/sweeps/{Uri.EscapeDataString(settings.Id)}/results", cancellationToken), settings.Output);
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
        using var client = settings.Client();
        return await ApiSettings.Call("cancel", () => client.PostAsync($"/api/sweeps/{Uri.EscapeDataString(settings.Id)}/cancel", null, cancellationToken));
    }
}
