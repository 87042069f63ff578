using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using Farm.Cluster.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Farm.Cluster.Hosting;

/// <summary>
/// The management port's routes, mapped in one place (<see cref="Map"/>): the cluster-bootstrap
/// contact point (<c>GET /bootstrap/seed-nodes</c>, the route and JSON that Akka.Management's
/// bootstrap probes) and the probes <c>/alive</c> (the actor system runs) and <c>/ready</c> (this
/// node is an Up member, and on a coordinator node its store takes writes), and <c>/metrics</c> for
/// Prometheus (docs/operations.md). They run on the node's
/// own web host, not on Akka.Management's HTTP server: the only Ceen.Httpd the registry serves
/// (0.9.10) lacks the method Akka.Http.Shim 1.5.73 binds with (docs/bootstrap.md).
/// </summary>
public static class ManagementRoutes
{
    /// <summary>As Akka.Management's contact point: a handful of seeds is enough to join through.</summary>
    private const int MaxSeedNodesToExpose = 5;

    /// <summary>Every management route. A new one (e.g. <c>/metrics</c>) is added here.</summary>
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/bootstrap/seed-nodes", (ActorSystem system) => Results.Text(SeedNodesJson(Akka.Cluster.Cluster.Get(system)), "application/json"));
        routes.MapGet("/alive", (ActorSystem system) => system.WhenTerminated.IsCompleted
            ? Results.Json(new { ok = false, status = "terminated" }, statusCode: 503)
            : Results.Json(new { ok = true, status = "running" }));
        routes.MapGet("/ready", (ActorSystem system, StoreHealth store) =>
        {
            var status = Akka.Cluster.Cluster.Get(system).SelfMember.Status;
            bool up = status is MemberStatus.Up or MemberStatus.WeaklyUp;
            // A coordinator whose store cannot be written dispatches nothing: not ready (docs/failure-behaviour.md).
            if (store.Error is { } error) return Results.Json(new { ok = false, status = status.ToString(), store = error }, statusCode: 503);
            return Results.Json(new { ok = up, status = status.ToString() }, statusCode: up ? 200 : 503);
        });
        // The node's metrics in Prometheus's text format.
        routes.MapPrometheusScrapingEndpoint("/metrics", routes.ServiceProvider.GetRequiredService<Telemetry.FarmTelemetry>().Provider, null, null);
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
}
