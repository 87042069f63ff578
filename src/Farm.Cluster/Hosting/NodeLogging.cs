using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Farm.Cluster.Hosting;

/// <summary>The console log's format: lines for a person, or one JSON object a line for a log collector.</summary>
public enum LogFormat
{
    Human,
    Json,
}

/// <summary>
/// How a node logs: every category, Akka's own events included (Akka.Hosting's logger factory
/// bridge), goes through Microsoft.Extensions.Logging to one console provider on stderr (stdout
/// carries the CLI's answers). The format comes from <see cref="FormatVariable"/> unless set.
/// </summary>
public sealed record NodeLogging
{
    /// <summary><c>FARM_LOG_FORMAT=json</c> (set in the image) selects JSON; anything else, or unset, the human format.</summary>
    public const string FormatVariable = "FARM_LOG_FORMAT";

    public LogFormat Format { get; init; } = FromEnvironment();
    /// <summary>Farm's own events: Information shows each state change (trial dispatched, result stored, ...).</summary>
    public LogLevel MinimumLevel { get; init; } = LogLevel.Information;
    /// <summary>False: no console provider (a caller adds its own, e.g. an embedded node that keeps quiet).</summary>
    public bool Console { get; init; } = true;

    public static LogFormat FromEnvironment() =>
        string.Equals(Environment.GetEnvironmentVariable(FormatVariable), "json", StringComparison.OrdinalIgnoreCase) ? LogFormat.Json : LogFormat.Human;

    /// <summary>Replaces the builder's providers with the node's console, in the chosen format.</summary>
    public void Apply(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(MinimumLevel);
        // The web server logs every request at Information; its warnings and errors still come through.
        logging.AddFilter("Microsoft", (LogLevel)Math.Max((int)MinimumLevel, (int)LogLevel.Warning));
        // A host that fails to start logs the exception with its stack; FarmNode rethrows it, and its
        // caller says in one line what could not listen (farm serve exits 5).
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        if (!Console) return;
        logging.AddConsole(c => c.LogToStandardErrorThreshold = LogLevel.Trace);
        if (Format == LogFormat.Json)
        {
            logging.AddJsonConsole(j =>
            {
                j.IncludeScopes = true;
                j.UseUtcTimestamp = true;
                j.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
            });
        }
        else
        {
            logging.AddSimpleConsole(s =>
            {
                s.SingleLine = true;
                s.TimestampFormat = "HH:mm:ss.fff ";
                s.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        }
    }
}
