using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Farm.Cluster.Client;
using Farm.Cluster.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Farm.Cluster.Http;

/// <summary>
/// The coordinator's HTTP API: submit (YAML or JSON sweep spec, or an envelope carrying the
/// workload files), list, status with progress, cancel, results. Errors are JSON
/// <c>{"error": "..."}</c> with a 4xx status that says what was wrong.
/// </summary>
public static class FarmHttpApi
{
    public const string EnvelopeType = "application/vnd.farm.submit+json";

    public static WebApplication Build(FarmClient client, HttpApiOptions options)
    {
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(ListenUrls.Parse(options.Url).ToString());
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxBodyBytes);
        var app = builder.Build();

        if (!string.IsNullOrEmpty(options.Token))
        {
            app.Use(async (ctx, next) =>
            {
                if (ctx.Request.Path == "/health" || BearerToken.Matches(ctx.Request.Headers.Authorization, options.Token)) { await next(); return; }
                await Error(ctx, StatusCodes.Status401Unauthorized, "missing or wrong bearer token (Authorization: Bearer <token>)");
            });
        }

        app.MapGet("/health", () => Results.Text("ok"));
        app.MapPost("/api/sweeps", async ctx => await Submit(ctx, client, options));
        app.MapGet("/api/sweeps", async ctx => await Json(ctx, 200, StatusList((await client.Status()).Sweeps)));
        app.MapGet("/api/sweeps/{id}", async (HttpContext ctx, string id) =>
        {
            var reply = await client.Status(new SweepId(id));
            if (reply.Sweeps.Count == 0) { await Error(ctx, 404, $"no sweep '{id}'"); return; }
            await Json(ctx, 200, StatusJson(reply.Sweeps[0]));
        });
        app.MapPost("/api/sweeps/{id}/cancel", async (HttpContext ctx, string id) =>
        {
            var reply = await client.Cancel(new SweepId(id));
            if (reply is SweepCancelled c) await Json(ctx, 200, new JsonObject { ["sweep"] = id, ["trials_cancelled"] = c.TrialsCancelled });
            else await Error(ctx, 404, $"no sweep '{id}'");
        });
        app.MapGet("/api/sweeps/{id}/results", async (HttpContext ctx, string id) =>
        {
            var items = await client.Results(new SweepId(id));
            if (items is null) { await Error(ctx, 404, $"no sweep '{id}'"); return; }
            await Json(ctx, 200, ResultsJson(items));
        });
        app.MapGet("/api/sweeps/{id}/report", async (HttpContext ctx, string id, string? format) =>
        {
            Farm.Reports.ReportFormat f;
            try { f = Farm.Reports.ReportWriter.ParseFormat(format ?? "html"); }
            catch (ArgumentException e) { await Error(ctx, 400, e.Message); return; }
            var report = await SweepReport.Build(client, new SweepId(id));
            if (report is null) { await Error(ctx, 404, $"no sweep '{id}'"); return; }
            ctx.Response.ContentType = Farm.Reports.ReportWriter.ContentType(f);
            await ctx.Response.WriteAsync(Farm.Reports.ReportWriter.Render(report, f));
        });
        return app;
    }

    private static async Task Submit(HttpContext ctx, FarmClient client, HttpApiOptions options)
    {
        if (ctx.Request.ContentLength > options.MaxBodyBytes)
        {
            await Error(ctx, StatusCodes.Status413PayloadTooLarge, $"request body of {ctx.Request.ContentLength} bytes is over the limit of {options.MaxBodyBytes}");
            return;
        }
        string body;
        try
        {
            using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
            body = await reader.ReadToEndAsync();
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await Error(ctx, 413, $"request body is over the limit of {options.MaxBodyBytes} bytes");
            return;
        }
        if (string.IsNullOrWhiteSpace(body)) { await Error(ctx, 400, "empty body: send a sweep spec (YAML or JSON)"); return; }

        string spec = body;
        Dictionary<string, string>? workloads = null;
        if (ctx.Request.ContentType?.StartsWith(EnvelopeType, StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                Farm.Workloads.Input.GuardedJson.Check(body, "submit envelope"); // size, depth, nodes: docs/limits.md
                var envelope = JsonNode.Parse(body)!.AsObject();
                spec = (string?)envelope["spec"] ?? throw new FormatException("the envelope has no 'spec'");
                workloads = envelope["workloads"]?.AsObject().ToDictionary(kv => kv.Key, kv => (string)kv.Value!);
            }
            catch (Farm.Simulation.Config.ConfigException e)
            {
                await Error(ctx, 400, e.Message);
                return;
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
            {
                await Error(ctx, 400, $"malformed submit envelope: {e.Message}");
                return;
            }
        }
        switch (await client.Submit(spec, baseDir: null, workloads))
        {
            case SweepAccepted a:
                await Json(ctx, 202, new JsonObject
                {
                    ["sweep"] = a.Sweep.Value, ["name"] = a.Name, ["trials"] = a.Trials, ["to_run"] = a.ToRun, ["reused"] = a.Reused,
                });
                break;
            case SweepRejected r:
                await Error(ctx, 400, r.Error);
                break;
        }
    }

    private static JsonArray StatusList(IEnumerable<SweepStatus> sweeps) => new(sweeps.Select(s => (JsonNode)StatusJson(s)).ToArray());

    private static JsonObject StatusJson(SweepStatus s) => new()
    {
        ["sweep"] = s.Sweep.Value, ["name"] = s.Name, ["trials"] = s.Trials, ["queued"] = s.Queued, ["running"] = s.Running,
        ["done"] = s.Done, ["failed"] = s.Failed, ["cancelled"] = s.CancelledTrials, ["progress"] = Math.Round(s.Progress, 4),
        ["complete"] = s.Complete,
    };

    /// <summary>The results of a sweep as one JSON array (the same shape as farm sweep's results.json).</summary>
    public static JsonArray ResultsJson(IEnumerable<SweepResultItem> items)
    {
        var array = new JsonArray();
        foreach (var item in items)
        {
            var o = new JsonObject
            {
                ["position"] = item.Position,
                ["trial"] = item.Trial.Value,
                ["labels"] = new JsonObject(item.Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
                ["status"] = item.Status,
            };
            if (item.ResultJson is not null) o["result"] = JsonNode.Parse(item.ResultJson);
            if (item.Error is not null) o["error"] = item.Error;
            array.Add(o);
        }
        return array;
    }

    private static Task Json(HttpContext ctx, int status, JsonNode body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(body.ToJsonString());
    }

    private static Task Error(HttpContext ctx, int status, string message) =>
        Json(ctx, status, new JsonObject { ["error"] = message });
}
