using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Management.Cluster.Bootstrap;
using Akka.Remote.Hosting;
using Farm.Cluster.Coordinator;
using Farm.Cluster.Protocol;
using Farm.Cluster.Serialization;
using Farm.Cluster.Store;
using Farm.Cluster.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Farm.Cluster.Hosting;

/// <summary>
/// A node's actor system through Akka.Hosting: remoting, clustering with the farm's downing (UnreachableDowning),
/// the coordinator singleton and its proxy, the worker, cluster bootstrap (started by the host once
/// the management routes answer: <see cref="FarmNode"/>), Akka's log events into
/// Microsoft.Extensions.Logging, and last the <c>--config</c> overlays, which win over everything.
/// </summary>
internal static class NodeAkka
{
    public static void Configure(AkkaConfigurationBuilder akka, IServiceProvider services, NodeOptions o, Config? overlay, ResultStore? store, NodeCarry carry)
    {
        akka.AddHocon(BaseConfig(o), HoconAddMode.Append);
        akka.ConfigureLoggers(l =>
        {
            l.LogLevel = Akka.Event.LogLevel.WarningLevel;
            l.ClearLoggers();
            l.AddLogger<AkkaLogBridge>();
        });
        akka.WithRemoting(new RemoteOptions { HostName = o.Hostname, Port = o.Port, MaxFrameSize = 4 * 1024 * 1024 });
        akka.WithClustering(new ClusterOptions
        {
            Roles = [.. o.Roles],
            SeedNodes = [.. o.SeedNodes],
            // Downing is UnreachableDowning (BaseConfig): Akka's side-counting strategies could down
            // the coordinator, or the surviving workers, when one node died (docs/failure-behaviour.md).
            SplitBrainResolver = null,
            FailureDetector = new PhiAccrualFailureDetectorOptions { AcceptableHeartbeatPause = o.HeartbeatPause },
        });
        if (o.Discovery != Discovery.None)
        {
            akka.WithClusterBootstrap(b =>
            {
                b.ContactPointDiscovery.ServiceName = o.ServiceName;
                b.ContactPointDiscovery.RequiredContactPointsNr = o.RequiredContactPoints;
                if (o.Discovery == Discovery.Kubernetes) b.ContactPointDiscovery.PortName = BootstrapConfig.ManagementPortName;
                // Local contact points share one host and differ by port: keep them all.
                b.ContactPoint.FilterOnFallbackPort = o.Discovery != Discovery.Config;
            }, autoStart: false);
        }

        var proxyOptions = SingletonOptions();
        if (store is not null)
        {
            var health = services.GetRequiredService<StoreHealth>();
            var events = services.GetRequiredService<ILoggerFactory>().CreateLogger("Farm.Coordinator");
            var coordinator = new CoordinatorOptions
            {
                TrialDeadline = o.TrialDeadline, DeadlineCheckInterval = o.StoreCheckInterval, LeftRunning = carry.LeftRunning, ResumeGrace = o.ResumeGrace,
            };
            akka.WithSingleton<CoordinatorProxy>(CoordinatorProxy.Name,
                (_, _, _) => Props.Create(() => new CoordinatorActor(coordinator, store, health, events)),
                SingletonOptions(),
                createProxyToo: true);
        }
        else
        {
            akka.WithSingletonProxy<CoordinatorProxy>(CoordinatorProxy.Name, proxyOptions);
        }
        if (o.IsWorker)
        {
            akka.WithActors((system, registry) =>
            {
                var self = Akka.Cluster.Cluster.Get(system).SelfAddress;
                var id = new WorkerId($"{self.Host}:{self.Port}/{Guid.NewGuid():N}"[..40]);
                var worker = system.ActorOf(Props.Create(() => new WorkerActor(id, Math.Max(1, o.Slots), registry.Get<CoordinatorProxy>(), o.PollInterval, carry.Unacked, o.Batching)), "worker");
                // Results gathered for a batch go before the node leaves (at most a window's worth; those not acknowledged
                // by then run again, as any unacknowledged result of a stopped worker).
                CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "farm-worker-send-results",
                    () => worker.Ask<Akka.Done>(WorkerActor.SendGathered.Instance, TimeSpan.FromSeconds(2)).ContinueWith(_ => Akka.Done.Instance));
                // A worker-only node rejoins when its cluster has lost the coordinator (docs/failure-behaviour.md).
                if (!o.IsCoordinator) system.ActorOf(Props.Create(() => new CoordinatorWatch(worker, o.CoordinatorGrace)), "coordinator-watch");
            });
        }
        // Without seeds or discovery the node is a cluster of its own (farm sweep, a first node).
        if (o.Discovery == Discovery.None && o.SeedNodes.Count == 0)
            akka.AddStartup((system, _) => Akka.Cluster.Cluster.Get(system).Join(Akka.Cluster.Cluster.Get(system).SelfAddress));
        if (overlay is not null) akka.AddHocon(overlay, HoconAddMode.Prepend);
    }

    /// <summary>
    /// The singleton and its proxies. The proxy's "failed to find the singleton" warning stays off,
    /// as it was before Akka.Hosting: Akka 1.5.75 gives it whenever a node starts or leaves, whatever the period.
    /// </summary>
    private static ClusterSingletonOptions SingletonOptions() => new()
    {
        Role = CoordinatorProxy.Role,
        TerminationMessage = PoisonPill.Instance,
        LogSingletonIdentificationFailure = false,
    };

    /// <summary>What the hosting options do not cover: logging, downing timing, shutdown, bootstrap's discovery, serialization.</summary>
    private static Config BaseConfig(NodeOptions o) =>
        ConfigurationFactory.ParseString($$"""
            akka {
              # Before the loggers start and after they stop Akka writes to stdout; stdout is the CLI's.
              stdout-loglevel = OFF
              log-dead-letters = off
              log-dead-letters-during-shutdown = off
              # The scheduler's wheel ticks 10 times a second, not 100: each tick wakes .NET's timer thread and
              # a pool thread (Task.Delay), the largest part of an idle node's CPU (docs/cluster.md, "Benchmark",
              # and "Coordinator CPU a trial"); the timers it serves are 1 s and more (heartbeats, gossip, polls).
              scheduler.tick-duration = 100ms
              cluster {
                downing-provider-class = "{{UnreachableDowning.ProviderClass}}"
                split-brain-resolver.stable-after = {{(int)o.StableAfter.TotalMilliseconds}}ms
                run-coordinated-shutdown-when-down = on
              }
              coordinated-shutdown.run-by-clr-shutdown-hook = on
            }
            """)
            .WithFallback(BootstrapConfig.For(o))
            .WithFallback(FarmSerialization.Config);
}
