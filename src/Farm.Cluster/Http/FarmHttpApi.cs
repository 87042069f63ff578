using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Farm.Cluster.Client;
using Farm.Cluster.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
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
public static partial class FarmHttpApi
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
        AddServices(builder.Services);
        var app = builder.Build();
        Configure(app, client, options);
        return app;
    }

    /// <summary>The services the API's routes need: source-generated JSON bodies and the OpenAPI document.</summary>
    public static void AddServices(IServiceCollection services)
    {
        // The bodies' options are the source-generated context's own, so that the OpenAPI schemas say what is sent.
        services.ConfigureHttpJsonOptions(j =>
        {
            j.SerializerOptions.PropertyNamingPolicy = FarmJsonContext.Default.Options.PropertyNamingPolicy;
            j.SerializerOptions.DefaultIgnoreCondition = FarmJsonContext.Default.Options.DefaultIgnoreCondition;
            j.SerializerOptions.NumberHandling = FarmJsonContext.Default.Options.NumberHandling;
            j.SerializerOptions.TypeInfoResolverChain.Insert(0, FarmJsonContext.Default);
        });
        services.AddFarmOpenApi();
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
        // What routing answers without a body (an unknown route, a method the route does not take) gets one too.
        app.UseStatusCodePages(c => NoRouteError(c.HttpContext));
        if (!string.IsNullOrEmpty(options.Token))
        {
            app.Use(async (ctx, next) =>
            {
                if (ctx.Request.Path == "/health" || ctx.Request.Path == OpenApiPath
                    || BearerToken.Matches(ctx.Request.Headers.Authorization, options.Token)) { await next(); return; }
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

        var submissions = new System.Threading.RateLimiting.ConcurrencyLimiter(new System.Threading.RateLimiting.ConcurrencyLimiterOptions
        {
            PermitLimit = options.MaxSubmissions,
            QueueLimit = 0,
        });

        app.MapOpenApi(OpenApiRoute);
        app.MapGet("/health", () => TypedResults.Text("ok"))
            .WithTags("health").WithSummary("The API answers (without the token)").Produces<string>(200, "text/plain");
        app.MapPost("/api/sweeps", (Func<HttpContext, Task>)(ctx => Submit(ctx, client, options, submissions))) // a Delegate, so the route carries its metadata
            .WithTags("sweeps").WithSummary("Submit a sweep: its spec and the text of every workload file it names")
            // The body is described by the document's transformer: an Accepts here would make routing refuse other content types.
            .Produces<SubmitResponse>(202).ProducesErrors(400, 401, 413, 429, 500, 503);
        app.MapGet("/api/sweeps", async () =>
        {
            var reply = await client.Status();
            return TypedResults.Json(reply.Sweeps.Select(s => SweepProgress.Of(s, reply.StoreError)).ToList(), FarmJsonContext.Default.IReadOnlyListSweepProgress);
        }).WithTags("sweeps").WithSummary("Every sweep with its progress").Produces<IReadOnlyList<SweepProgress>>(200).ProducesErrors(401, 500, 503);
        app.MapGet("/api/sweeps/{id}", async (string id) =>
        {
            var reply = await client.Status(new SweepId(id));
            return reply.Sweeps.Count == 0
                ? Error(404, $"no sweep '{id}'")
                : TypedResults.Json(SweepProgress.Of(reply.Sweeps[0], reply.StoreError), FarmJsonContext.Default.SweepProgress);
        }).WithTags("sweeps").WithSummary("One sweep's progress").Produces<SweepProgress>(200).ProducesErrors(401, 404, 500, 503);
        app.MapPost("/api/sweeps/{id}/cancel", async (string id) =>
            await client.Cancel(new SweepId(id)) is SweepCancelled c
                ? TypedResults.Json(new CancelResponse(id, c.TrialsCancelled), FarmJsonContext.Default.CancelResponse)
                : Error(404, $"no sweep '{id}'"))
            .WithTags("sweeps").WithSummary("Cancel a sweep's queued and running trials").Produces<CancelResponse>(200).ProducesErrors(401, 404, 500, 503);
        app.MapGet("/api/sweeps/{id}/results", async (HttpContext ctx, string id) =>
        {
            using var lease = heavy.AttemptAcquire();
            if (!lease.IsAcquired) { await TooBusy(ctx, options); return; }
            await StreamResults(ctx, client, new SweepId(id));
        }).WithTags("sweeps").WithSummary("A sweep's results in sweep order (the shape of farm sweep's results.json), streamed a page at a time")
            .Produces<IReadOnlyList<SweepResult>>(200).ProducesErrors(401, 404, 429, 500, 503);
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
        }).WithTags("sweeps").WithSummary("A sweep's report; format html (default), md, csv or json")
            .Produces<string>(200, "text/html", "text/markdown", "text/csv", "application/json").ProducesErrors(400, 401, 404, 429, 500, 503);
    }

    private static async Task Submit(HttpContext ctx, FarmClient client, HttpApiOptions options, System.Threading.RateLimiting.RateLimiter submissions)
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
        // Taken once the body is in, so that a client sending slowly holds no permit.
        using var lease = submissions.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            ctx.Response.Headers.RetryAfter = "1";
            await Error(ctx, StatusCodes.Status429TooManyRequests,
                $"too many submissions at once (the limit is {options.MaxSubmissions}); try again shortly (submitting the same sweep again is safe: it has the same id)");
            return;
        }

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
                ctx.Response.StatusCode = StatusCodes.Status202Accepted;
                await ctx.Response.WriteAsJsonAsync(new SubmitResponse(a.Sweep.Value, a.Name, a.Trials, a.ToRun, a.Reused), FarmJsonContext.Default.SubmitResponse);
                break;
            case SweepRejected r:
                await Error(ctx, 400, r.Error);
                break;
        }
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
            foreach (var item in page.Items) item.WriteTo(json, reindent: false);
            await json.FlushAsync(ctx.RequestAborted);
            if (page.NextPosition is not { } next) break;
            page = await client.ResultsPage(sweep, next) ?? throw new FarmRequestException($"sweep '{sweep}' went away while its results were read", false);
        }
        json.WriteEndArray();
        await json.FlushAsync(ctx.RequestAborted);
    }


    private static (int Status, string Message) Failure(Exception e) => e switch
    {
        BadHttpRequestException b => (b.StatusCode, $"bad request: {b.Message}"), // the body could not be read as HTTP says
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

    private static Task Error(HttpContext ctx, int status, string message)
    {
        ctx.Response.StatusCode = status;
        return ctx.Response.WriteAsJsonAsync(new ApiError(message), FarmJsonContext.Default.ApiError);
    }

    private static IResult Error(int status, string message) => TypedResults.Json(new ApiError(message), FarmJsonContext.Default.ApiError, statusCode: status);

    /// <summary>The body of a status routing set without one: 404 for a path no route has, 405 for a method the route does not take.</summary>
    private static Task NoRouteError(HttpContext ctx)
    {
        var r = ctx.Request;
        string message = ctx.Response.StatusCode switch
        {
            404 => $"no route {r.Method} {r.Path}; the API's routes are in {OpenApiPath}",
            405 => $"{r.Method} is not allowed on {r.Path}; allowed: {ctx.Response.Headers.Allow}",
            var status => $"{status} {ReasonPhrases.GetReasonPhrase(status)}",
        };
        return Error(ctx, ctx.Response.StatusCode, message);
    }
}
