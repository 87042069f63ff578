using System.ComponentModel;
using Farm.Cluster.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Farm.Cli.Commands;

/// <summary>
/// <c>farm serve --roles coordinator,worker [--hostname H] [--port P] [--seed-nodes A,B] [--db F] [--slots N]</c>:
/// a long-running cluster node. SIGTERM or Ctrl+C leaves the cluster gracefully.
/// </summary>
public sealed class ServeCommand : AsyncCommand<ServeCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--roles <ROLES>")]
        [Description("coordinator, worker, or both (comma-separated)")]
        [DefaultValue("coordinator,worker")]
        public string Roles { get; init; } = "coordinator,worker";

        [CommandOption("--hostname <HOST>")]
        [DefaultValue("127.0.0.1")]
        public string Hostname { get; init; } = "127.0.0.1";

        [CommandOption("--port <PORT>")]
        [Description("Akka remoting port (0: any free port)")]
        [DefaultValue(4053)]
        public int Port { get; init; } = 4053;

        [CommandOption("--seed-nodes <ADDRESSES>")]
        [Description("Comma-separated akka.tcp://farm@host:port; none: this node starts a new cluster")]
        public string? SeedNodes { get; init; }

        [CommandOption("--db <FILE>")]
        [Description("The coordinator's SQLite store")]
        [DefaultValue("farm.db")]
        public string Database { get; init; } = "farm.db";

        [CommandOption("--slots <N>")]
        [Description("Trials a worker runs at once (default: cores)")]
        public int? Slots { get; init; }

        [CommandOption("--http <URL>")]
        [Description("The coordinator's HTTP API (coordinator role only); 'off' disables it")]
        [DefaultValue("http://127.0.0.1:8770")]
        public string Http { get; init; } = "http://127.0.0.1:8770";

        [CommandOption("--config <FILE>")]
        [Description("HOCON overlay for the node (e.g. cluster-config/local.conf)")]
        public string? Config { get; init; }

        [CommandOption("--token <TOKEN>")]
        [Description("Bearer token for the HTTP API (required off loopback; default: $FARM_API_TOKEN)")]
        public string? Token { get; init; }

        public override ValidationResult Validate()
        {
            var roles = Roles.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (roles.Length == 0 || roles.Any(r => r is not ("coordinator" or "worker")))
                return ValidationResult.Error($"--roles: '{Roles}' is not valid; valid: coordinator, worker, or both");
            if (Port is < 0 or > 65535) return ValidationResult.Error($"--port: {Port} is not valid; valid: 0..65535");
            if (Slots is < 1 or > 1024) return ValidationResult.Error($"--slots: {Slots} is not valid; valid: 1..1024");
            if (Http != "off" && !(Uri.TryCreate(Http, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
                return ValidationResult.Error($"--http: '{Http}' is not valid; valid: an http:// URL such as http://127.0.0.1:8770, or off");
            return ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var options = new NodeOptions
        {
            Roles = settings.Roles.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            Hostname = settings.Hostname,
            Port = settings.Port,
            SeedNodes = settings.SeedNodes?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [],
            DatabasePath = settings.Database,
            Slots = settings.Slots ?? Environment.ProcessorCount,
        };
        var http = new Farm.Cluster.Http.HttpApiOptions { Url = settings.Http, Token = settings.Token ?? Environment.GetEnvironmentVariable("FARM_API_TOKEN") };
        bool serveHttp = options.IsCoordinator && settings.Http != "off";
        try
        {
            if (serveHttp) http.Validate();
        }
        catch (Farm.Simulation.Config.ConfigException e)
        {
            Console.Error.WriteLine($"farm serve: {e.Message}");
            return ExitCodes.BadInput;
        }
        Akka.Configuration.Config? overlay = null;
        if (settings.Config is not null)
        {
            if (!File.Exists(settings.Config))
            {
                Console.Error.WriteLine($"farm serve: --config: '{settings.Config}' does not exist");
                return ExitCodes.BadInput;
            }
            try
            {
                overlay = Akka.Configuration.ConfigurationFactory.ParseString(File.ReadAllText(settings.Config));
            }
            catch (Exception e) when (e is Akka.Configuration.ConfigurationException or FormatException)
            {
                Console.Error.WriteLine($"farm serve: --config '{settings.Config}' is not valid HOCON: {e.Message}");
                return ExitCodes.BadInput;
            }
        }
        var node = FarmNode.Start(options, overlay);
        Microsoft.AspNetCore.Builder.WebApplication? api = null;
        if (serveHttp)
        {
            api = Farm.Cluster.Http.FarmHttpApi.Build(new Farm.Cluster.Client.FarmClient(node.System, node.Coordinator), http);
            await api.StartAsync(cancellationToken);
            Console.Error.WriteLine($"farm serve: HTTP API on {settings.Http}");
        }
        Console.Error.WriteLine($"farm serve: {node.Address} roles {string.Join(',', options.Roles)}");
        Console.Out.WriteLine($"ready {node.Address}");
        var left = new TaskCompletionSource();
        node.System.RegisterOnTermination(() => left.TrySetResult());
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            _ = node.DisposeAsync().AsTask();
        };
        await left.Task; // CoordinatedShutdown (SIGTERM, Ctrl+C, or downed by the cluster) ends the node
        if (api is not null) await api.StopAsync(CancellationToken.None);
        Console.Error.WriteLine("farm serve: left the cluster");
        return 0;
    }
}
