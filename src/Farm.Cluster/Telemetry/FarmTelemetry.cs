using Akka.Actor;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Farm.Cluster.Telemetry;

/// <summary>Where a node's metrics go: always to the Prometheus scrape (served on the management port), and over OTLP when an endpoint is given.</summary>
public sealed record TelemetryOptions
{
    /// <summary>Push over OTLP too; by default when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.</summary>
    public bool Otlp { get; init; } = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
    /// <summary>
    /// Null: the exporter reads the standard <c>OTEL_EXPORTER_OTLP_*</c> variables itself (endpoint, protocol,
    /// headers; over http/protobuf it appends <c>/v1/metrics</c> to the endpoint). Given: the full URL, as is.
    /// </summary>
    public Uri? OtlpEndpoint { get; init; }
    /// <summary>Null: from <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> (gRPC by default).</summary>
    public OtlpExportProtocol? OtlpProtocol { get; init; }
    /// <summary>Null: the SDK's period, from <c>OTEL_METRIC_EXPORT_INTERVAL</c> (60 s by default).</summary>
    public TimeSpan? OtlpExportInterval { get; init; }
}

/// <summary>
/// A node's OpenTelemetry meter provider: the farm's own meter (<see cref="FarmMetrics"/>), ASP.NET
/// Core's request metrics (<c>http.server.request.duration</c> by route and status, for the HTTP
/// API and the management endpoint) and the runtime's (GC, memory, CPU). One per node, disposed with
/// its actor system.
/// </summary>
public sealed class FarmTelemetry : IDisposable
{
    /// <summary>The meters exported besides the farm's own.</summary>
    public static readonly string[] FrameworkMeters = ["Microsoft.AspNetCore.Hosting", "System.Runtime"];

    private FarmTelemetry(MeterProvider provider) => Provider = provider;

    public MeterProvider Provider { get; }

    public static FarmTelemetry Start(ActorSystem system, IEnumerable<string> roles, TelemetryOptions? options = null)
    {
        options ??= new TelemetryOptions();
        var metrics = FarmMetrics.Get(system);
        string instance = Akka.Cluster.Cluster.Get(system).SelfAddress.ToString();
        var builder = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(r => r.AddService("farm", serviceInstanceId: instance)
                .AddAttributes([new KeyValuePair<string, object>("farm.roles", string.Join(",", roles))]))
            .AddFarmMetrics(metrics)
            .AddPrometheusExporter();
        if (options.Otlp)
            builder.AddOtlpExporter((exporter, reader) =>
            {
                if (options.OtlpEndpoint is { } endpoint) exporter.Endpoint = endpoint;
                if (options.OtlpProtocol is { } protocol) exporter.Protocol = protocol;
                if (options.OtlpExportInterval is { } every) reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)every.TotalMilliseconds;
            });
        var telemetry = new FarmTelemetry(builder.Build());
        system.RegisterOnTermination(telemetry.Dispose);
        return telemetry;
    }

    public void Dispose() => Provider.Dispose();
}

public static class FarmMetricsRegistration
{
    /// <summary>
    /// The farm's meter of one node and the framework meters. Meters are global to a process: a
    /// view drops the instruments of other nodes' <see cref="FarmMetrics.MeterName"/> meters, so
    /// that a node in a process with others (tests, embedded) reports only its own.
    /// </summary>
    public static MeterProviderBuilder AddFarmMetrics(this MeterProviderBuilder builder, FarmMetrics metrics) =>
        builder.AddMeter(FarmMetrics.MeterName).AddMeter(FarmTelemetry.FrameworkMeters)
            .AddView(instrument => instrument.Meter.Name == FarmMetrics.MeterName && !ReferenceEquals(instrument.Meter, metrics.Meter)
                ? MetricStreamConfiguration.Drop
                : null);
}
