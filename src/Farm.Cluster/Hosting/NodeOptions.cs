namespace Farm.Cluster.Hosting;

/// <summary>How one farm node runs: its roles, where it listens, how it finds the cluster. Defaults: <see cref="NodeDefaults"/>.</summary>
public sealed record NodeOptions
{
    public IReadOnlyList<string> Roles { get; init; } = NodeDefaults.Roles.Split(',');
    public string Hostname { get; init; } = NodeDefaults.Hostname;
    /// <summary>Akka remoting port; 0 picks a free one.</summary>
    public int Port { get; init; } = NodeDefaults.Port;
    /// <summary>Static seed nodes (akka.tcp://farm@host:port); empty means this node seeds itself.</summary>
    public IReadOnlyList<string> SeedNodes { get; init; } = [];
    public string DatabasePath { get; init; } = NodeDefaults.DatabasePath;
    /// <summary>Trial slots on a worker (default: the machine's cores).</summary>
    public int Slots { get; init; } = Environment.ProcessorCount;
    public TimeSpan PollInterval { get; init; } = NodeDefaults.PollInterval;
    /// <summary>How a worker batches short trials' tickets and results (<see cref="Worker.TicketBatching"/>).</summary>
    public Worker.TicketBatching Batching { get; init; } = Worker.TicketBatching.Default;
    public TimeSpan TrialDeadline { get; init; } = NodeDefaults.TrialDeadline;
    /// <summary>How often the coordinator checks deadlines and, after a store failure, whether the store takes writes again.</summary>
    public TimeSpan StoreCheckInterval { get; init; } = NodeDefaults.StoreCheckInterval;
    /// <summary>Failure detection: how long a silent node is tolerated before it is unreachable.</summary>
    public TimeSpan HeartbeatPause { get; init; } = NodeDefaults.HeartbeatPause;
    /// <summary>Downing (<see cref="UnreachableDowning"/>): how long a member stays unreachable before it is downed.</summary>
    public TimeSpan StableAfter { get; init; } = NodeDefaults.StableAfter;

    /// <summary>A worker-only node in a cluster without a coordinator for this long finishes its trials and rejoins.</summary>
    public TimeSpan CoordinatorGrace { get; init; } = NodeDefaults.CoordinatorGrace;
    /// <summary>How long a starting coordinator waits for reports of the trials a previous one left running before it queues them again; zero: at once.</summary>
    public TimeSpan ResumeGrace { get; init; } = NodeDefaults.ResumeGrace;

    /// <summary>Static seeds (<see cref="Discovery.None"/>) or Akka.Management cluster bootstrap.</summary>
    public Discovery Discovery { get; init; } = Discovery.None;
    /// <summary>The management endpoint's port (bootstrap contact point, /alive and /ready); null: none.</summary>
    public int? ManagementPort { get; init; }
    /// <summary>The discovery service name: the config services key, or the pods' app.kubernetes.io/name label.</summary>
    public string ServiceName { get; init; } = NodeDefaults.ServiceName;
    /// <summary>Contact points that must be found before a new cluster may be formed.</summary>
    public int RequiredContactPoints { get; init; } = NodeDefaults.RequiredContactPoints;
    /// <summary>Management endpoints (host:port) of the nodes to contact, for <see cref="Discovery.Config"/>.</summary>
    public IReadOnlyList<string> ContactPoints { get; init; } = [];

    /// <summary>True for <c>farm serve</c>: SIGTERM and Ctrl+C stop the node gracefully. An embedded node leaves the process's signals alone.</summary>
    public bool OwnsProcess { get; init; }

    /// <summary>Console log format and level (<see cref="NodeLogging"/>).</summary>
    public NodeLogging Logging { get; init; } = new();

    public bool IsCoordinator => Roles.Contains("coordinator");
    public bool IsWorker => Roles.Contains("worker");
}
