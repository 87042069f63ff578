namespace Farm.Cluster.Hosting;

/// <summary>How one farm node runs: its roles, where it listens, how it finds the cluster.</summary>
public sealed record NodeOptions
{
    public IReadOnlyList<string> Roles { get; init; } = ["coordinator", "worker"];
    public string Hostname { get; init; } = "127.0.0.1";
    /// <summary>Akka remoting port; 0 picks a free one.</summary>
    public int Port { get; init; } = 4053;
    /// <summary>Static seed nodes (akka.tcp://farm@host:port); empty means this node seeds itself.</summary>
    public IReadOnlyList<string> SeedNodes { get; init; } = [];
    public string DatabasePath { get; init; } = "farm.db";
    /// <summary>Trial slots on a worker (default: the machine's cores).</summary>
    public int Slots { get; init; } = Environment.ProcessorCount;
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan TrialDeadline { get; init; } = TimeSpan.FromHours(2);
    /// <summary>How often the coordinator checks deadlines and, after a store failure, whether the store takes writes again.</summary>
    public TimeSpan StoreCheckInterval { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Failure detection: how long a silent node is tolerated before it is unreachable.</summary>
    public TimeSpan HeartbeatPause { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Split-brain resolver: how long membership must be stable before it downs nodes.</summary>
    public TimeSpan StableAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Static seeds (<see cref="Discovery.None"/>) or Akka.Management cluster bootstrap.</summary>
    public Discovery Discovery { get; init; } = Discovery.None;
    /// <summary>Akka.Management HTTP port (bootstrap contact point, /alive and /ready); null: no management server.</summary>
    public int? ManagementPort { get; init; }
    /// <summary>The discovery service name: the config services key, or the pods' app.kubernetes.io/name label.</summary>
    public string ServiceName { get; init; } = "farm";
    /// <summary>Contact points that must be found before a new cluster may be formed.</summary>
    public int RequiredContactPoints { get; init; } = 2;
    /// <summary>Management endpoints (host:port) of the nodes to contact, for <see cref="Discovery.Config"/>.</summary>
    public IReadOnlyList<string> ContactPoints { get; init; } = [];

    public bool IsCoordinator => Roles.Contains("coordinator");
    public bool IsWorker => Roles.Contains("worker");
}
