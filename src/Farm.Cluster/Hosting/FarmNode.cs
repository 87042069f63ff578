using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using Farm.Cluster.Coordinator;
using Farm.Cluster.Protocol;
using Farm.Cluster.Serialization;
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

    private FarmNode(ActorSystem system, NodeOptions options, IActorRef coordinator)
    {
        System = system;
        Options = options;
        Coordinator = coordinator;
    }

    public ActorSystem System { get; }
    public NodeOptions Options { get; }
    /// <summary>A proxy to the coordinator singleton, wherever it runs.</summary>
    public IActorRef Coordinator { get; }
    public string Address => Akka.Cluster.Cluster.Get(System).SelfAddress.ToString();

    public static FarmNode Start(NodeOptions options, Config? extra = null)
    {
        var config = BuildConfig(options);
        if (extra is not null) config = extra.WithFallback(config);
        var system = ActorSystem.Create(SystemName, config);
        var cluster = Akka.Cluster.Cluster.Get(system);
        if (options.ManagementPort is not null) StartManagement(system, options);
        if (options.Discovery == Discovery.None && options.SeedNodes.Count == 0) cluster.Join(cluster.SelfAddress);

        if (options.IsCoordinator)
        {
            var coordinatorOptions = new CoordinatorOptions(options.DatabasePath) { TrialDeadline = options.TrialDeadline };
            system.ActorOf(ClusterSingletonManager.Props(
                Props.Create(() => new CoordinatorActor(coordinatorOptions)),
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
        return new FarmNode(system, options, proxy);
    }

    /// <summary>
    /// The management server (contact point and health probes) and, with discovery on, cluster
    /// bootstrap, which joins or forms the cluster once enough contact points agree.
    /// </summary>
    private static void StartManagement(ActorSystem system, NodeOptions options)
    {
        try
        {
            var server = ManagementServer.StartAsync(system, options, options.ManagementPort!.Value).GetAwaiter().GetResult();
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
