using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Farm.Cluster.Client;
using Farm.Cluster.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Farm.Cluster.Http;

/// <summary>
/// The coordinator's HTTP API: submit (YAML or JSON sweep spec, or an envelope carrying the
/// workload files), list, status with progress, cancel, results. Errors are JSON
/// <c>{"error": "..."}</c> with a 4xx status that says what was wrong, or a 5xx at once when the
/// coordinator failed (500), its store is unavailable or it did not answer (503). Results and
/// reports are heavy: at most <see cref="HttpApiOptions.MaxHeavyRequests"/> at a time (429 beyond),
/// results streamed a page at a time (docs/failure-behaviour.md).
/// </summary>
public static class FarmHttpApi
{
    public const string EnvelopeType = "application/vnd.farm.submit+json";

    /// <summary>The API alone on a web server of its own (a farm node serves it on its host: <see cref="Configure"/>).</summary>
    public static WebApplication Build(FarmClient client, HttpApiOptions options)
    {
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(ListenUrls.Parse(options.Url).ToString());
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxBodyBytes);
        var app = builder.Build();
        Configure(app, client, options);
        return app;
    }

    /// <summary>The API's middleware (errors as JSON, the bearer token) and routes, on a pipeline or a branch of one.</summary>
    public static void Configure(IApplicationBuilder app, FarmClient client, HttpApiOptions options)
    {
        app.Use(async (ctx, next) =>
        {
            try
            {
                await next();
            }
            catch (Exception e) when (!ctx.RequestAborted.IsCancellationRequested)
            {
                var (status, message) = Failure(e);
                if (ctx.Response.HasStarted) ctx.Abort(); // mid-stream: a cut connection, never a truncated body that looks whole
                else await Error(ctx, status, message);
            }
        });
        if (!string.IsNullOrEmpty(options.Token))
        {
            app.Use(async (ctx, next) =>
            {
                if (ctx.Request.Path == "/health" || BearerToken.Matches(ctx.Request.Headers.Authorization, options.Token)) { await next(); return; }
                await Error(ctx, StatusCodes.Status401Unauthorized, "missing or wrong bearer token (Authorization: Bearer <token>)");
            });
        }

        app.UseRouting();
        app.UseEndpoints(routes => MapRoutes(routes, client, options));
    }

    private static void MapRoutes(IEndpointRouteBuilder app, FarmClient client, HttpApiOptions options)
    {
        var heavy = new System.Threading.RateLimiting.ConcurrencyLimiter(new System.Threading.RateLimiting.ConcurrencyLimiterOptions
        {
            PermitLimit = options.MaxHeavyRequests,
            QueueLimit = 0,
        });

        app.MapGet("/health", () => Results.Text("ok"));
        app.MapPost("/api/sweeps", async ctx => await Submit(ctx, client, options));
        app.MapGet("/api/sweeps", async ctx =>
        {
            var reply = await client.Status();
            await Json(ctx, 200, StatusList(reply.Sweeps, reply.StoreError));
        });
        app.MapGet("/api/sweeps/{id}", async (HttpContext ctx, string id) =>
        {
            var reply = await client.Status(new SweepId(id));
            if (reply.Sweeps.Count == 0) { await Error(ctx, 404, $"no sweep '{id}'"); return; }
            await Json(ctx, 200, StatusJson(reply.Sweeps[0], reply.StoreError));
        });
        app.MapPost("/api/sweeps/{id}/cancel", async (HttpContext ctx, string id) =>
        {
            var reply = await client.Cancel(new SweepId(id));
            if (reply is SweepCancelled c) await Json(ctx, 200, new JsonObject { ["sweep"] = id, ["trials_cancelled"] = c.TrialsCancelled });
            else await Error(ctx, 404, $"no sweep '{id}'");
        });
        app.MapGet("/api/sweeps/{id}/results", async (HttpContext ctx, string id) =>
        {
            using var lease = heavy.AttemptAcquire();
            if (!lease.IsAcquired) { await TooBusy(ctx, options); return; }
            await StreamResults(ctx, client, new SweepId(id));
        });
        app.MapGet("/api/sweeps/{id}/report", async (HttpContext ctx, string id, string? format) =>
        {
            Farm.Reports.ReportFormat f;
            try { f = Farm.Reports.ReportWriter.ParseFormat(format ?? "html"); }
            catch (ArgumentException e) { await Error(ctx, 400, e.Message); return; }
            using var lease = heavy.AttemptAcquire();
            if (!lease.IsAcquired) { await TooBusy(ctx, options); return; }
            var report = await SweepReport.Build(client, new SweepId(id));
            if (report is null) { await Error(ctx, 404, $"no sweep '{id}'"); return; }
            ctx.Response.ContentType = Farm.Reports.ReportWriter.ContentType(f);
            await ctx.Response.WriteAsync(Farm.Reports.ReportWriter.Render(report, f));
        });
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
                (spec, workloads) = SubmitEnvelope.Parse(body);
            }
            catch (Farm.Simulation.Config.ConfigException e)
            {
                await Error(ctx, 400, e.Message);
                return;
            }
            catch (FormatException e)
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

    private static JsonArray StatusList(IEnumerable<SweepStatus> sweeps, string? storeError) =>
        new(sweeps.Select(s => (JsonNode)StatusJson(s, storeError)).ToArray());

    /// <summary>A sweep's status; <c>store_error</c> only while the store cannot be written (nothing is dispatched then).</summary>
    private static JsonObject StatusJson(SweepStatus s, string? storeError)
    {
        var o = new JsonObject
        {
            ["sweep"] = s.Sweep.Value, ["name"] = s.Name, ["trials"] = s.Trials, ["queued"] = s.Queued, ["running"] = s.Running,
            ["done"] = s.Done, ["failed"] = s.Failed, ["cancelled"] = s.CancelledTrials, ["progress"] = Math.Round(s.Progress, 4),
            ["complete"] = s.Complete,
        };
        if (storeError is not null) o["store_error"] = storeError;
        return o;
    }

    /// <summary>
    /// The results as one JSON array, written a page at a time as the coordinator answers: memory
    /// is one page here and there, whatever the sweep's size. Same shape as <see cref="ResultsJson"/>.
    /// </summary>
    private static async Task StreamResults(HttpContext ctx, FarmClient client, SweepId sweep)
    {
        var page = await client.ResultsPage(sweep, 0);
        if (page is null) { await Error(ctx, 404, $"no sweep '{sweep}'"); return; }
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(ctx.Response.Body);
        json.WriteStartArray();
        while (true)
        {
            foreach (var item in page.Items) WriteItem(json, item);
            await json.FlushAsync(ctx.RequestAborted);
            if (page.NextPosition is not { } next) break;
            page = await client.ResultsPage(sweep, next) ?? throw new FarmRequestException($"sweep '{sweep}' went away while its results were read", false);
        }
        json.WriteEndArray();
        await json.FlushAsync(ctx.RequestAborted);
    }

    private static void WriteItem(Utf8JsonWriter json, SweepResultItem item)
    {
        json.WriteStartObject();
        json.WriteNumber("position", item.Position);
        json.WriteString("trial", item.Trial.Value);
        json.WriteStartObject("labels");
        foreach (var l in item.Labels) json.WriteString(l.Key, l.Value);
        json.WriteEndObject();
        json.WriteString("status", item.Status);
        if (item.ResultJson is not null)
        {
            json.WritePropertyName("result");
            json.WriteRawValue(item.ResultJson, skipInputValidation: true); // validated when stored
        }
        if (item.Error is not null) json.WriteString("error", item.Error);
        json.WriteEndObject();
    }

    private static (int Status, string Message) Failure(Exception e) => e switch
    {
        FarmRequestException { Unavailable: true } f => (503, f.Message),
        FarmRequestException f => (500, f.Message),
        Akka.Actor.AskTimeoutException => (503, "the coordinator did not answer in time (starting, moving to another node, or overloaded); try again"),
        _ => (500, $"internal error: {e.GetType().Name}: {e.Message}"),
    };

    private static Task TooBusy(HttpContext ctx, HttpApiOptions options)
    {
        ctx.Response.Headers.RetryAfter = "1";
        return Error(ctx, StatusCodes.Status429TooManyRequests,
            $"too many results/report requests at once (the limit is {options.MaxHeavyRequests}); try again shortly");
    }

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
