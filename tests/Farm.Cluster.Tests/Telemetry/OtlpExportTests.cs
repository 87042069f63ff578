using System.Text;
using Akka.Actor;
using Farm.Cluster.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Farm.Cluster.Tests.Telemetry;

/// <summary>Issue 17 item 1: with OTLP on, a node pushes its metrics to the collector (here a stand-in that keeps what it receives).</summary>
public class OtlpExportTests
{
    [Fact]
    public async Task WithOtlpOn_TheNodesMetricsArePushedToTheCollector()
    {
        var received = new TaskCompletionSource<(string ContentType, byte[] Body)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var collector = builder.Build();
        collector.MapPost("/v1/metrics", async (HttpContext ctx) =>
        {
            using var body = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(body);
            received.TrySetResult((ctx.Request.ContentType ?? "", body.ToArray()));
            return Results.Ok();
        });
        await collector.StartAsync();

        using var system = ActorSystem.Create("otlp", "akka.actor.provider = cluster\nakka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }\nakka.loglevel = ERROR");
        using var telemetry = FarmTelemetry.Start(system, ["worker"], new TelemetryOptions
        {
            Otlp = true, OtlpEndpoint = new Uri(collector.Urls.First() + "/v1/metrics"),
            OtlpProtocol = OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf, OtlpExportInterval = TimeSpan.FromMilliseconds(200),
        });

        var (contentType, bytes) = await received.Task.WaitAsync(TimeSpan.FromMinutes(2)); // bounds a hang only
        Assert.Equal("application/x-protobuf", contentType);
        string text = Encoding.UTF8.GetString(bytes); // protobuf keeps strings as UTF-8 bytes
        Assert.Contains("farm.cluster.members", text);
        Assert.Contains(system.Name, text); // service.instance.id: the node's address
        await system.Terminate();
    }
}
