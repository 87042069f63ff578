using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Management.Cluster.Bootstrap;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using Akka.Management.Dsl;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Farm.Cluster.Hosting;

/// <summary>
/// A node's management endpoint, on the framework's web server: the cluster-bootstrap contact point
/// (<c>GET /bootstrap/seed-nodes</c>, the route and JSON that Akka.Management's bootstrap probes)
/// and the probes <c>/alive</c> (the actor system runs) and <c>/ready</c> (this node is an Up
/// member, and on a coordinator node its store takes writes), and <c>/metrics</c> for Prometheus. Akka.Management's own HTTP server is not used: the only Ceen.Httpd the registry serves
/// (0.9.10) lacks the method Akka.Http.Shim 1.5.73 binds with (docs/deployment.md).
/// </summary>
public sealed class ManagementServer : IAsyncDisposable
{
    /// <summary>As Akka.Management's contact point: a handful of seeds is enough to join through.</summary>
    private const int MaxSeedNodesToExpose = 5;

    private readonly WebApplication _app;

    private ManagementServer(WebApplication app) => _app = app;

    public static async Task<ManagementServer> StartAsync(ActorSystem system, NodeOptions o, int port, Farm.Cluster.Store.StoreHealth? store = null,
        Farm.Cluster.Telemetry.FarmTelemetry? telemetry = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{Bindable(o.Hostname)}:{port}");
        var app = builder.Build();
        var cluster = Akka.Cluster.Cluster.Get(system);
        app.MapGet("/bootstrap/seed-nodes", () => Results.Text(SeedNodesJson(cluster), "application/json"));
        app.MapGet("/alive", () => system.WhenTerminated.IsCompleted
            ? Results.Json(new { ok = false, status = "terminated" }, statusCode: 503)
            : Results.Json(new { ok = true, status = "running" }));
        app.MapGet("/ready", () =>
        {
            var status = cluster.SelfMember.Status;
            bool up = status is MemberStatus.Up or MemberStatus.WeaklyUp;
            // A coordinator whose store cannot be written dispatches nothing: not ready (docs/failure-behaviour.md).
            if (store?.Error is { } error) return Results.Json(new { ok = false, status = status.ToString(), store = error }, statusCode: 503);
            return Results.Json(new { ok = up, status = status.ToString() }, statusCode: up ? 200 : 503);
        });
        // The node's metrics in Prometheus's text format (docs/operations.md).
        if (telemetry is not null) app.MapPrometheusScrapingEndpoint("/metrics", telemetry.Provider, null, null);
        await app.StartAsync();
        // Bootstrap learns the URI other nodes reach this one at from the route provider call.
        ClusterBootstrap.Get(system).Routes(ManagementRouteProviderSettings.Create(new Uri($"http://{o.Hostname}:{port}"), true));
        return new ManagementServer(app);
    }

    /// <summary>
    /// What a contact point answers: its own address, and the members it can vouch for (reachable,
    /// joining or up) as seed candidates; nothing while it is itself leaving or gone.
    /// </summary>
    private static string SeedNodesJson(Akka.Cluster.Cluster cluster)
    {
        var self = cluster.SelfMember;
        var members = ImmutableList<HttpBootstrapJsonProtocol.ClusterMember>.Empty;
        if (self.Status is MemberStatus.Joining or MemberStatus.Up or MemberStatus.WeaklyUp)
        {
            var state = cluster.State;
            members = state.Members
                .Where(m => !state.Unreachable.Contains(m) && m.Status is MemberStatus.Joining or MemberStatus.Up or MemberStatus.WeaklyUp)
                .Take(MaxSeedNodesToExpose)
                .Select(m => new HttpBootstrapJsonProtocol.ClusterMember(m.Address, m.UniqueAddress.Uid, m.Status, m.Roles))
                .ToImmutableList();
        }
        return Newtonsoft.Json.JsonConvert.SerializeObject(new HttpBootstrapJsonProtocol.SeedNodes(self.Address, members));
    }

    // A DNS name is bound on every interface; an address literal as given.
    private static string Bindable(string host) => System.Net.IPAddress.TryParse(host, out var ip)
        ? (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host}]" : host)
        : "0.0.0.0";

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
