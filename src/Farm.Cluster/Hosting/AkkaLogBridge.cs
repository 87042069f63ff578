using Akka.Actor;
using Akka.DependencyInjection;
using Akka.Dispatch;
using Akka.Event;
using Microsoft.Extensions.Logging;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Farm.Cluster.Hosting;

/// <summary>
/// Akka's logger (<c>akka.loggers</c>): each Akka log event becomes one entry of the host's
/// Microsoft.Extensions.Logging, in the category of the class that logged it (<c>Akka.Cluster.…</c>),
/// with the source (an actor path or a class) and Akka's message as fields. Akka.Hosting's own
/// bridge writes Akka's whole formatted line (level, time, thread, path) into the message instead;
/// the log entry has those already.
/// </summary>
public sealed class AkkaLogBridge : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly ILoggerFactory _factory = DependencyResolver.For(Context.System).Resolver.GetService<ILoggerFactory>();
    private readonly Dictionary<Type, ILogger> _loggers = [];
    private readonly Dictionary<string, ILogger> _bySource = [];

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent e:
                Log(e);
                return true;
            default:
                return false;
        }
    }

    private ILogger ForClass(Type type)
    {
        if (!_loggers.TryGetValue(type, out var logger)) _loggers[type] = logger = _factory.CreateLogger(type);
        return logger;
    }

    // Akka's extensions log under a name ("Cluster (akka://farm)", "remoting (akka://farm)"): Akka.Cluster, Akka.remoting.
    private ILogger ForSource(string source)
    {
        int end = source.IndexOfAny([' ', '(']);
        string name = "Akka." + (end > 0 ? source[..end] : source);
        if (!_bySource.TryGetValue(name, out var logger)) _bySource[name] = logger = _factory.CreateLogger(name);
        return logger;
    }

    private void Log(LogEvent e)
    {
        var logger = e.LogClass == typeof(DummyClassForStringSources) ? ForSource(e.LogSource) : ForClass(e.LogClass);
        var level = e.LogLevel() switch
        {
            Akka.Event.LogLevel.DebugLevel => LogLevel.Debug,
            Akka.Event.LogLevel.InfoLevel => LogLevel.Information,
            Akka.Event.LogLevel.WarningLevel => LogLevel.Warning,
            _ => LogLevel.Error,
        };
        if (!logger.IsEnabled(level)) return;
        string text;
        try
        {
            text = e.Message?.ToString() ?? "";
        }
        catch (FormatException) // a log call whose format and arguments disagree: keep the format
        {
            text = e.Message is LogMessage m ? m.Format : e.Message?.GetType().Name ?? "";
        }
#pragma warning disable CA2254 // one fixed template; the fields are Akka's
        logger.Log(level, e.Cause, "{AkkaSource}: {AkkaMessage}", e.LogSource, text);
#pragma warning restore CA2254
    }
}
