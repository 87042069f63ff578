using System.ComponentModel;
using Farm.Cluster.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Farm.Cli.Commands;

/// <summary>
/// <c>farm serve --roles coordinator,worker [--hostname H] [--port P] [--seed-nodes A,B | --discovery config|kubernetes]
/// [--db F] [--slots N]</c>: a long-running cluster node. SIGTERM or Ctrl+C leaves the cluster gracefully.
/// </summary>
public sealed class ServeCommand : AsyncCommand<ServeCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--roles <ROLES>")]
        [Description("coordinator, worker, or both (comma-separated)")]
        [DefaultValue(NodeDefaults.Roles)]
        public string Roles { get; init; } = NodeDefaults.Roles;

        [CommandOption("--hostname <HOST>")]
        [DefaultValue(NodeDefaults.Hostname)]
        public string Hostname { get; init; } = NodeDefaults.Hostname;

        [CommandOption("--port <PORT>")]
        [Description("Akka remoting port (0: any free port)")]
        [DefaultValue(NodeDefaults.Port)]
        public int Port { get; init; } = NodeDefaults.Port;

        [CommandOption("--seed-nodes <ADDRESSES>")]
        [Description("Comma-separated akka.tcp://farm@host:port; none: this node starts a new cluster")]
        public string? SeedNodes { get; init; }

        [CommandOption("--db <FILE>")]
        [Description("The coordinator's SQLite store")]
        [DefaultValue(NodeDefaults.DatabasePath)]
        public string Database { get; init; } = NodeDefaults.DatabasePath;

        [CommandOption("--slots <N>")]
        [Description("Trials a worker runs at once (default: cores)")]
        public int? Slots { get; init; }

        [CommandOption("--http <URL>")]
        [Description("The coordinator's HTTP API (coordinator role only); 'off' disables it")]
        [DefaultValue(NodeDefaults.HttpUrl)]
        public string Http { get; init; } = NodeDefaults.HttpUrl;

        [CommandOption("--config <FILES>")]
        [Description("HOCON overlays for the node, comma-separated, later ones win (e.g. cluster-config/local.conf)")]
        public string? Config { get; init; }

        [CommandOption("--discovery <METHOD>")]
        [Description("none (static --seed-nodes), config (bootstrap via --contact-points) or kubernetes (bootstrap via the Kubernetes API)")]
        [DefaultValue("none")]
        public string Discovery { get; init; } = "none";

        [CommandOption("--management-port <PORT>")]
        [Description("Management port: bootstrap contact point and the /alive and /ready probes (default: " + NodeDefaults.ManagementPortText + " with discovery, off without)")]
        public int? ManagementPort { get; init; }

        [CommandOption("--service-name <NAME>")]
        [Description("Discovery service name (the pods' app.kubernetes.io/name label in Kubernetes)")]
        [DefaultValue(NodeDefaults.ServiceName)]
        public string ServiceName { get; init; } = NodeDefaults.ServiceName;

        [CommandOption("--required-contact-points <N>")]
        [Description("Contact points bootstrap must find before it forms a new cluster")]
        [DefaultValue(NodeDefaults.RequiredContactPoints)]
        public int RequiredContactPoints { get; init; } = NodeDefaults.RequiredContactPoints;

        [CommandOption("--contact-points <HOST:PORT,...>")]
        [Description("Management endpoints of the nodes to contact (--discovery config)")]
        public string? ContactPoints { get; init; }

        [CommandOption("--token <TOKEN>")]
        [Description("Bearer token for the HTTP API (required off loopback); visible in ps: prefer --token-file or $FARM_API_TOKEN")]
        public string? Token { get; init; }

        [CommandOption("--token-file <FILE>")]
        [Description("Read the bearer token from FILE (default: $FARM_API_TOKEN_FILE, then $FARM_API_TOKEN)")]
        public string? TokenFile { get; init; }

        [CommandOption("--log-format <FORMAT>")]
        [Description("human (default) or json, one object a line on stderr (default: $FARM_LOG_FORMAT, which the image sets to json)")]
        public string? LogFormat { get; init; }

        public override ValidationResult Validate()
        {
            var roles = SplitList(Roles);
            if (roles.Length == 0 || roles.Any(r => r is not ("coordinator" or "worker")))
                return ValidationResult.Error($"--roles: '{Roles}' is not valid; valid: coordinator, worker, or both");
            if (Port is < 0 or > 65535) return ValidationResult.Error($"--port: {Port} is not valid; valid: 0..65535");
            if (Uri.CheckHostName(Hostname) == UriHostNameType.Unknown)
                return ValidationResult.Error($"--hostname: '{Hostname}' is not valid; valid: a host name or IP address, e.g. 127.0.0.1");
            if (SplitList(SeedNodes).FirstOrDefault(a => !IsAkkaAddress(a)) is { } badSeed)
                return ValidationResult.Error($"--seed-nodes: '{badSeed}' is not valid; valid: akka.tcp://farm@HOST:PORT, comma-separated");
            if (Slots is < 1 or > 1024) return ValidationResult.Error($"--slots: {Slots} is not valid; valid: 1..1024");
            if (LogFormat is not (null or "human" or "json"))
                return ValidationResult.Error($"--log-format: '{LogFormat}' is not valid; valid: human, json");
            if (Discovery is not ("none" or "config" or "kubernetes"))
                return ValidationResult.Error($"--discovery: '{Discovery}' is not valid; valid: none, config, kubernetes");
            if (ManagementPort is < 1 or > 65535)
                return ValidationResult.Error($"--management-port: {ManagementPort} is not valid; valid: 1..65535");
            if (Discovery != "none" && !string.IsNullOrWhiteSpace(SeedNodes))
                return ValidationResult.Error($"--seed-nodes cannot be combined with --discovery {Discovery}: bootstrap finds the seeds");
            if (RequiredContactPoints is < 1 or > 1000)
                return ValidationResult.Error($"--required-contact-points: {RequiredContactPoints} is not valid; valid: 1..1000");
            if (Discovery == "config" && SplitList(ContactPoints).Length == 0)
                return ValidationResult.Error("--discovery config needs --contact-points host:port,... (the management endpoints of the nodes)");
            if (SplitList(ContactPoints).FirstOrDefault(c => !IsHostPort(c)) is { } bad)
                return ValidationResult.Error($"--contact-points: '{bad}' is not valid; valid: host:port, e.g. 127.0.0.1:8558");
            if (!System.Text.RegularExpressions.Regex.IsMatch(ServiceName, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))
                return ValidationResult.Error($"--service-name: '{ServiceName}' is not valid; valid: a DNS label such as farm");
            if (Http != "off")
            {
                try
                {
                    Farm.Cluster.Http.ListenUrls.Parse(Http);
                }
                catch (Farm.Simulation.Config.ConfigException e)
                {
                    return ValidationResult.Error(e.Message);
                }
            }
            return ValidationResult.Success();
        }

        internal static string[] SplitList(string? list) =>
            list?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];

        private static bool IsAkkaAddress(string s) =>
            Uri.TryCreate(s, UriKind.Absolute, out var u) && u.Scheme == "akka.tcp" && u.UserInfo.Length > 0 && u.Port is > 0 and <= 65535
            && u.AbsolutePath is "" or "/" && Uri.CheckHostName(u.Host) != UriHostNameType.Unknown;

        private static bool IsHostPort(string s) =>
            s.LastIndexOf(':') is > 0 and var i && int.TryParse(s[(i + 1)..], out int p) && p is > 0 and <= 65535;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var options = new NodeOptions
        {
            Roles = Settings.SplitList(settings.Roles),
            Hostname = settings.Hostname,
            Port = settings.Port,
            SeedNodes = Settings.SplitList(settings.SeedNodes),
            Discovery = Enum.Parse<Discovery>(settings.Discovery, ignoreCase: true),
            ManagementPort = settings.ManagementPort ?? (settings.Discovery == "none" ? null : NodeDefaults.ManagementPort),
            ServiceName = settings.ServiceName,
            RequiredContactPoints = settings.RequiredContactPoints,
            ContactPoints = Settings.SplitList(settings.ContactPoints),
            DatabasePath = settings.Database,
            Slots = settings.Slots ?? Environment.ProcessorCount,
            OwnsProcess = true,
            Logging = settings.LogFormat is { } format
                ? new NodeLogging { Format = Enum.Parse<LogFormat>(format, ignoreCase: true) }
                : new NodeLogging(),
        };
        bool serveHttp = options.IsCoordinator && settings.Http != "off";
        Farm.Cluster.Http.HttpApiOptions http;
        try
        {
            http = new Farm.Cluster.Http.HttpApiOptions { Url = settings.Http, Token = serveHttp ? Farm.Cluster.Http.BearerToken.Resolve(settings.Token, settings.TokenFile) : null };
            if (serveHttp) http.Validate();
        }
        catch (Farm.Simulation.Config.ConfigException e)
        {
            Console.Error.WriteLine($"farm serve: {e.Message}");
            return ExitCodes.BadInput;
        }
        Akka.Configuration.Config? overlay = null;
        foreach (string file in Settings.SplitList(settings.Config))
        {
            try
            {
                string text = Farm.Workloads.Input.InputFile.ReadText(file, "--config: file");
                Farm.Workloads.Input.HoconDepth.Check(text, file); // Akka's HOCON parser recurses per level
                var parsed = Akka.Configuration.ConfigurationFactory.ParseString(text);
                overlay = overlay is null ? parsed : parsed.WithFallback(overlay);
            }
            catch (Farm.Simulation.Config.ConfigException e)
            {
                Console.Error.WriteLine($"farm serve: {e.Message}");
                return ExitCodes.BadInput;
            }
            catch (Exception e) when (e is Akka.Configuration.ConfigurationException or FormatException)
            {
                Console.Error.WriteLine($"farm serve: --config '{file}' is not valid HOCON: {e.Message}");
                return ExitCodes.BadInput;
            }
        }
        FarmNode node;
        try
        {
            node = await FarmNode.StartAsync(options, overlay, serveHttp ? http : null, cancellationToken);
        }
        catch (Farm.Cluster.Store.StoreException e) // checked before anything listens: one line, and nothing in the store touched
        {
            Console.Error.WriteLine($"farm serve: {e.Message}");
            return ExitCodes.StoreUnavailable;
        }
        catch (Farm.Simulation.Config.ConfigException e)
        {
            Console.Error.WriteLine($"farm serve: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (IOException e) when (options.ManagementPort is not { } mp || !e.Message.Contains($":{mp}", StringComparison.Ordinal))
        {
            // Kestrel: an API address is in use or cannot be bound
            Console.Error.WriteLine($"farm serve: cannot listen on {settings.Http} for the HTTP API: {e.Message}");
            return ExitCodes.NodeFailure;
        }
        catch (Exception e) // remoting or management cannot bind: say where, not a stack trace
        {
            Console.Error.WriteLine($"farm serve: cannot listen on {options.Hostname} (port {options.Port}, management port {options.ManagementPort?.ToString() ?? "off"}): {e.Message}");
            return ExitCodes.NodeFailure;
        }
        await using (node)
        {
            if (serveHttp) Console.Error.WriteLine($"farm serve: HTTP API on {settings.Http}");
            Console.Error.WriteLine($"farm serve: {node.Address} roles {string.Join(',', options.Roles)}"
                + (options.ManagementPort is { } mp ? $", management http://{options.Hostname}:{mp} (/alive, /ready), discovery {settings.Discovery}" : ""));
            Console.Out.WriteLine($"ready {node.Address}");
            await node.WaitForShutdownAsync(); // SIGTERM, Ctrl+C, or downed by the cluster: CoordinatedShutdown, then the host stops
        }
        // A worker whose cluster lost its coordinator, or that was downed, starts again and rejoins
        // through its seeds or discovery, in this process: it keeps the results no coordinator
        // acknowledged, and a laptop has no supervisor to restart it (docs/failure-behaviour.md).
        while (node.Rejoins && !cancellationToken.IsCancellationRequested)
        {
            Console.Error.WriteLine($"farm serve: {node.Address} left the cluster; starting again to rejoin through "
                + (options.Discovery == Discovery.None ? $"the seed nodes {string.Join(',', options.SeedNodes)}" : $"{settings.Discovery} discovery"));
            try
            {
                node = await node.StartAgainAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Nothing restarts it here: a supervisor (Kubernetes) does, with this exit code.
                Console.Error.WriteLine($"farm serve: cannot start again to rejoin the cluster: {e.Message}");
                return ExitCodes.NodeFailure;
            }
            await using (node)
            {
                Console.Error.WriteLine($"farm serve: {node.Address} started again; joining");
                await node.WaitForShutdownAsync();
            }
        }
        Console.Error.WriteLine("farm serve: left the cluster");
        return 0;
    }
}
