using System.Net;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Farm.Cluster.Client;
using Farm.Cluster.Http;
using Farm.Cluster.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Farm.Cluster.Hosting;

/// <summary>
/// The generic host of one node: Akka.Hosting's actor system (<see cref="NodeAkka"/>), the
/// node's logging (<see cref="NodeLogging"/>) and, when the node listens for HTTP, one web server
/// for the management port (<see cref="ManagementRoutes"/>) and the coordinator's API. Requests
/// are told apart by the port they came in on. A node with neither (an embedded node, a worker
/// without discovery) gets a host without a web server.
/// </summary>
internal static class NodeHost
{
    public static IHost Build(NodeOptions o, Config? overlay, HttpApiOptions? api, ResultStore? store, NodeCarry carry)
    {
        if (api is not null && !o.IsCoordinator) api = null; // only the coordinator's node serves the API
        api?.Validate();
        var apiUrls = api is null ? null : ListenUrls.Parse(api.Url);
        if (o.ManagementPort is { } mp && apiUrls?.Entries.Any(e => PortOf(e) == mp) == true)
            throw new Simulation.Config.ConfigException($"--http: port {mp} is the management port; give the API another");
        bool web = o.ManagementPort is not null || apiUrls is not null;
        // A node that owns its process (farm serve): the variable is process-wide.
        if (o.OwnsProcess) SocketCompletions.PreferInline();

        // No watching of the content root (the working directory) for appsettings.json changes: with the
        // store there (--db's default, farm.db) its watcher woke at every commit, some 8 % of the
        // coordinator's CPU in a sweep of trivial trials (docs/cluster.md, "Benchmark").
        IHostApplicationBuilder builder = web
            ? WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] })
            : Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        o.Logging.Apply(builder.Logging);
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = NodeDefaults.ShutdownTimeout);
        builder.Services.Configure<ConsoleLifetimeOptions>(c => c.SuppressStatusMessages = true);
        // An embedded node does not take the process's signals: farm sweep stops on Ctrl+C as any command does.
        if (!o.OwnsProcess) builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.Services.AddSingleton(new StoreHealth());
        builder.Services.AddAkka(FarmNode.SystemName, (akka, services) => NodeAkka.Configure(akka, services, o, overlay, store, carry));
        builder.Services.AddSingleton(sp => Telemetry.FarmTelemetry.Start(sp.GetRequiredService<ActorSystem>(), o.Roles));
        if (api is not null) FarmHttpApi.AddServices(builder.Services);
        if (!web) return ((HostApplicationBuilder)builder).Build();

        var webBuilder = (WebApplicationBuilder)builder;
        webBuilder.WebHost.ConfigureKestrel(k =>
        {
            if (o.ManagementPort is { } port) Listen(k, "http", o.Hostname == "localhost" ? "localhost" : Bindable(o.Hostname), port);
            if (apiUrls is not null)
            {
                foreach (var e in apiUrls.Entries) Listen(k, new Uri(e.Url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0")).Scheme, e.Host, PortOf(e));
                k.Limits.MaxRequestBodySize = api!.MaxBodyBytes;
            }
        });
        var app = webBuilder.Build();
        if (o.ManagementPort is { } managementPort)
        {
            app.MapWhen(ctx => ctx.Connection.LocalPort == managementPort, management =>
            {
                management.UseRouting();
                management.UseEndpoints(ManagementRoutes.Map);
            });
        }
        if (api is not null)
        {
            var registry = app.Services.GetRequiredService<ActorRegistry>();
            var client = new FarmClient(app.Services.GetRequiredService<ActorSystem>(), () => registry.Get<CoordinatorProxy>());
            app.MapWhen(ctx => ctx.Connection.LocalPort != o.ManagementPort, branch => FarmHttpApi.Configure(branch, client, api));
        }
        return app;
    }

    /// <summary>Binds as Kestrel binds a URL: <c>localhost</c> on both loopbacks, an address as given, any other name on every interface.</summary>
    private static void Listen(KestrelServerOptions k, string scheme, string host, int port)
    {
        Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> https = l => { if (scheme == "https") l.UseHttps(); };
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) k.ListenLocalhost(port, https);
        else if (IPAddress.TryParse(host, out var ip)) k.Listen(ip, port, https);
        else k.ListenAnyIP(port, https);
    }

    private static int PortOf(ListenUrls.Entry e) =>
        new Uri(e.Url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0")).Port;

    // The management endpoint binds a DNS name on every interface, an address literal as given.
    private static string Bindable(string host) => IPAddress.TryParse(host, out _) ? host : "0.0.0.0";

    /// <summary>A host lifetime that leaves the process's signals alone.</summary>
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
