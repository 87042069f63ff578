using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Management.Cluster.Bootstrap;
using Akka.Management.Dsl;
using Farm.Cluster.Coordinator;
using Farm.Cluster.Http;
using Farm.Cluster.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Farm.Cluster.Hosting;

/// <summary>
/// One farm node: an Akka cluster member with the coordinator role (the singleton and its
/// store), the worker role (a puller with slots), or both (the embedded default), on one generic
/// host (<see cref="NodeHost"/>) that also serves the node's management routes and, on a
/// coordinator, the HTTP API. The one place where a node is put together.
/// </summary>
public sealed class FarmNode : IAsyncDisposable
{
    public const string SystemName = "farm";

    private readonly IHost _host;
    private readonly Config? _overlay;
    private readonly HttpApiOptions? _api;
    private readonly NodeCarry _carry;
    private int _disposed;

    private FarmNode(IHost host, NodeOptions options, Config? overlay, HttpApiOptions? api, NodeCarry carry)
    {
        _host = host;
        _overlay = overlay;
        _api = api;
        _carry = carry;
        Options = options;
        System = host.Services.GetRequiredService<ActorSystem>();
        Coordinator = host.Services.GetRequiredService<ActorRegistry>().Get<CoordinatorProxy>();
        StoreHealth = host.Services.GetRequiredService<StoreHealth>();
    }

    public ActorSystem System { get; }
    public NodeOptions Options { get; }
    /// <summary>A proxy to the coordinator singleton, wherever it runs.</summary>
    public IActorRef Coordinator { get; }
    public string Address => Akka.Cluster.Cluster.Get(System).SelfAddress.ToString();
    /// <summary>Whether this node's store takes writes (always healthy on a node without the coordinator role).</summary>
    public StoreHealth StoreHealth { get; }
    public IServiceProvider Services => _host.Services;

    /// <summary>Starts the node and waits until it runs; see <see cref="StartAsync"/>.</summary>
    public static FarmNode Start(NodeOptions options, Config? overlay = null) => StartAsync(options, overlay).GetAwaiter().GetResult();

    /// <summary>
    /// Starts the node. A coordinator node first opens its store, exclusively, and checks it; a
    /// <see cref="StoreException"/> (held by another process, read-only, damaged, newer schema)
    /// means the node does not start. <paramref name="overlay"/> (the <c>--config</c> files) wins
    /// over every built-in setting; <paramref name="api"/> serves the HTTP API on a coordinator node.
    /// Anything that cannot listen (remoting, management, API) throws, with nothing left running.
    /// </summary>
    public static Task<FarmNode> StartAsync(NodeOptions options, Config? overlay = null, HttpApiOptions? api = null, CancellationToken cancel = default) =>
        StartAsync(options, overlay, api, [], cancel);

    private static async Task<FarmNode> StartAsync(NodeOptions options, Config? overlay, HttpApiOptions? api, Dictionary<Protocol.TrialId, Protocol.IFarmMessage> unacked, CancellationToken cancel)
    {
        // Once per process, before the actor system: the store is this process's for its whole life,
        // and trials left running by a previous process are handed to the coordinator once, which
        // queues each again unless its worker reports it within the resume grace.
        var store = options.IsCoordinator ? new ResultStore(options.DatabasePath) : null;
        IHost? host = null;
        try
        {
            // Without a grace (farm sweep: its node is its only worker) they are queued again at once.
            var carry = new NodeCarry
            {
                Unacked = unacked,
                LeftRunning = store is null || options.ResumeGrace <= TimeSpan.Zero ? [] : store.RunningTrials(),
            };
            int requeued = store is null ? 0 : options.ResumeGrace <= TimeSpan.Zero ? store.RequeueRunning() : carry.LeftRunning.Count;
            host = NodeHost.Build(options, overlay, api, store, carry);
            // The actor system is created here, so that a remoting port in use is this call's exception.
            var system = host.Services.GetRequiredService<ActorSystem>();
            if (store is not null) system.RegisterOnTermination(store.Dispose);
            host.Services.GetRequiredService<Telemetry.FarmTelemetry>(); // metrics from the start, /metrics or OTLP: docs/operations.md
            if (requeued > 0) CoordinatorLog.RequeuedAtStart(host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Farm.Coordinator"), requeued);
            try
            {
                await host.StartAsync(cancel);
                if (host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested)
                    throw new InvalidOperationException("the node's actors did not start (see the log above)");
                if (options.Discovery != Discovery.None) StartBootstrap(system, options);
            }
            catch
            {
                await system.Terminate().WaitAsync(NodeDefaults.ShutdownTimeout, CancellationToken.None);
                throw;
            }
            return new FarmNode(host, options, overlay, api, carry);
        }
        catch
        {
            host?.Dispose();
            store?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Cluster bootstrap, once the contact point answers: it learns the URI other nodes reach this
    /// one at from the route-provider call, then probes the contact points discovery finds.
    /// </summary>
    private static void StartBootstrap(ActorSystem system, NodeOptions o)
    {
        var bootstrap = ClusterBootstrap.Get(system);
        bootstrap.Routes(ManagementRouteProviderSettings.Create(new Uri($"http://{o.Hostname}:{o.ManagementPort}"), true));
        bootstrap.Start().GetAwaiter().GetResult();
    }

    /// <summary>Completes when the node has stopped: SIGTERM or Ctrl+C (a node that owns the process), or downed by the cluster.</summary>
    public Task WaitForShutdownAsync() => _host.WaitForShutdownAsync();

    /// <summary>
    /// Once stopped: whether the node should start again and rejoin. True when a worker-only node
    /// left because its cluster lost the coordinator (<see cref="CoordinatorWatch"/>) or because the
    /// cluster downed it (it was on the side that lost a partition); never after SIGTERM or Ctrl+C.
    /// </summary>
    public bool Rejoins => CoordinatedShutdown.Get(System).ShutdownReason switch
    {
        RejoinReason => true,
        CoordinatedShutdown.ClusterDowningReason => Options.IsWorker && !Options.IsCoordinator && Options.OwnsProcess,
        _ => false,
    };

    /// <summary>
    /// A new incarnation of this stopped node: the same options on the same address (the port it
    /// bound, if it was given 0), joining through its seeds or discovery, with the reports its
    /// worker held unacknowledged.
    /// </summary>
    public Task<FarmNode> StartAgainAsync(CancellationToken cancel = default)
    {
        int port = Akka.Cluster.Cluster.Get(System).SelfAddress.Port ?? Options.Port;
        return StartAsync(Options with { Port = port }, _overlay, _api, _carry.Unacked, cancel);
    }

    /// <summary>Leaves the cluster gracefully (CoordinatedShutdown, run by the host's stop), as on SIGTERM.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            await _host.StopAsync(CancellationToken.None);
        }
        finally
        {
            if (_host is IAsyncDisposable d) await d.DisposeAsync();
            else _host.Dispose();
        }
    }
}
