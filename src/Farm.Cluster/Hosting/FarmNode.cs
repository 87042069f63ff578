using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;
using Akka.Event;
using Akka.Configuration;
using Farm.Cluster.Coordinator;
using Farm.Cluster.Protocol;
using Farm.Cluster.Serialization;
using Farm.Cluster.Store;
using Farm.Cluster.Worker;

namespace Farm.Cluster.Hosting;

/// <summary>
/// One farm node: an Akka cluster member with the coordinator role (the singleton and its
/// store), the worker role (a puller with slots), or both (the embedded default). The one place
/// where a node's actor system is configured.
/// </summary>
public sealed class FarmNode : IAsyncDisposable
{
    public const string SystemName = "farm";

    private FarmNode(ActorSystem system, NodeOptions options, IActorRef coordinator, StoreHealth storeHealth)
    {
        System = system;
        Options = options;
        Coordinator = coordinator;
        StoreHealth = storeHealth;
    }

    public ActorSystem System { get; }
    public NodeOptions Options { get; }
    /// <summary>A proxy to the coordinator singleton, wherever it runs.</summary>
    public IActorRef Coordinator { get; }
    public string Address => Akka.Cluster.Cluster.Get(System).SelfAddress.ToString();
    /// <summary>Whether this node's store takes writes (always healthy on a node without the coordinator role).</summary>
    public StoreHealth StoreHealth { get; }

    /// <summary>
    /// Starts the node. A coordinator node first opens its store, exclusively, and checks it; a
    /// <see cref="StoreException"/> (held by another process, read-only, damaged, newer schema)
    /// means the node does not start.
    /// </summary>
    public static FarmNode Start(NodeOptions options, Config? extra = null)
    {
        var config = BuildConfig(options);
        if (extra is not null) config = extra.WithFallback(config);
        var health = new StoreHealth();
        // Once per process, before the actor system: the store is this process's for its whole life,
        // and trials left running by a previous process go back to the queue exactly once.
        var store = options.IsCoordinator ? new ResultStore(options.DatabasePath) : null;
        int requeued = store?.RequeueRunning() ?? 0;
        ActorSystem system;
        try
        {
            system = ActorSystem.Create(SystemName, config);
        }
        catch
        {
            store?.Dispose();
            throw;
        }
        if (store is not null) system.RegisterOnTermination(store.Dispose);
        if (requeued > 0) system.Log.Warning("coordinator: {0} trial(s) left running by a previous coordinator were queued again", requeued);
        var cluster = Akka.Cluster.Cluster.Get(system);
        var telemetry = Telemetry.FarmTelemetry.Start(system, options.Roles); // metrics: docs/operations.md
        if (options.ManagementPort is not null) StartManagement(system, options, health, telemetry);
        if (options.Discovery == Discovery.None && options.SeedNodes.Count == 0) cluster.Join(cluster.SelfAddress);

        if (store is not null)
        {
            var coordinatorOptions = new CoordinatorOptions { TrialDeadline = options.TrialDeadline, DeadlineCheckInterval = options.StoreCheckInterval };
            system.ActorOf(ClusterSingletonManager.Props(
                Props.Create(() => new CoordinatorActor(coordinatorOptions, store, health)),
                PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole("coordinator")), "coordinator");
        }
        var proxy = system.ActorOf(ClusterSingletonProxy.Props("/user/coordinator",
            ClusterSingletonProxySettings.Create(system).WithRole("coordinator")), "coordinator-proxy");
        if (options.IsWorker)
        {
            var id = new WorkerId($"{cluster.SelfAddress.Host}:{cluster.SelfAddress.Port}/{Guid.NewGuid():N}"[..40]);
            system.ActorOf(Props.Create(() => new WorkerActor(id, Math.Max(1, options.Slots), proxy, options.PollInterval)), "worker");
        }
        return new FarmNode(system, options, proxy, health);
    }

    /// <summary>
    /// The management server (contact point and health probes) and, with discovery on, cluster
    /// bootstrap, which joins or forms the cluster once enough contact points agree.
    /// </summary>
    private static void StartManagement(ActorSystem system, NodeOptions options, StoreHealth health, Telemetry.FarmTelemetry telemetry)
    {
        try
        {
            var server = ManagementServer.StartAsync(system, options, options.ManagementPort!.Value, health, telemetry).GetAwaiter().GetResult();
            system.RegisterOnTermination(() => server.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5)));
            if (options.Discovery != Discovery.None)
                Akka.Management.Cluster.Bootstrap.ClusterBootstrap.Get(system).Start().GetAwaiter().GetResult();
        }
        catch
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
            throw;
        }
    }

    /// <summary>Leaves the cluster gracefully (CoordinatedShutdown), as on SIGTERM.</summary>
    public async ValueTask DisposeAsync() =>
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance);

    public static Config BuildConfig(NodeOptions o)
    {
        string roles = string.Join(", ", o.Roles.Select(r => $"\"{r}\""));
        string seeds = string.Join(", ", o.SeedNodes.Select(s => $"\"{s}\""));
        var node = ConfigurationFactory.ParseString($$"""
            akka {
              loglevel = WARNING
              stdout-loglevel = WARNING
              log-dead-letters = off
              log-dead-letters-during-shutdown = off
              actor.provider = cluster
              remote.dot-netty.tcp {
                hostname = "{{o.Hostname}}"
                port = {{o.Port}}
                maximum-frame-size = 4 MiB
              }
              cluster {
                roles = [{{roles}}]
                seed-nodes = [{{seeds}}]
                failure-detector.acceptable-heartbeat-pause = {{(int)o.HeartbeatPause.TotalMilliseconds}}ms
                downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
                split-brain-resolver {
                  active-strategy = keep-majority
                  stable-after = {{(int)o.StableAfter.TotalMilliseconds}}ms
                }
                run-coordinated-shutdown-when-down = on
              }
              coordinated-shutdown.run-by-clr-shutdown-hook = on
            }
            """);
        return node.WithFallback(BootstrapConfig.For(o)).WithFallback(FarmSerialization.Config).WithFallback(ClusterSingleton.DefaultConfig());
    }
}
