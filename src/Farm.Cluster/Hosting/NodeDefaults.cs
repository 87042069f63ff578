namespace Farm.Cluster.Hosting;

/// <summary>
/// Every default of a farm node, in one place: <see cref="NodeOptions"/>, the coordinator's
/// settings, the HTTP API's and the CLI's flags read them from here (docs/cluster.md, "Node setup").
/// </summary>
public static class NodeDefaults
{
    public const string Hostname = "127.0.0.1";
    /// <summary>Akka remoting.</summary>
    public const int Port = 4053;
    /// <summary>The management endpoint: bootstrap contact point, probes (on when discovery is).</summary>
    public const int ManagementPort = 8558;
    /// <summary>For help texts (an attribute takes constants only).</summary>
    public const string ManagementPortText = "8558";
    /// <summary>The coordinator's HTTP API: loopback only unless a token is given.</summary>
    public const string HttpUrl = "http://127.0.0.1:8770";
    public const string DatabasePath = "farm.db";
    public const string ServiceName = "farm";
    public const int RequiredContactPoints = 2;
    public const string Roles = "coordinator,worker";

    /// <summary>How often a worker resends unacknowledged reports and asks again.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    /// <summary>A worker's request unanswered this long is taken as lost and sent again.</summary>
    public static readonly TimeSpan RequestResend = TimeSpan.FromSeconds(5);
    /// <summary>
    /// A worker keeps about this much work a slot in tickets and sends a result at the latest this long after it finished
    /// (<see cref="Worker.TicketDepth"/>): short trials' results travel in batches. Short against what a user waits for a
    /// result and against a sweep's end, when tickets a worker keeps could have run on another (docs/cluster.md).
    /// </summary>
    public static readonly TimeSpan TicketWindow = TimeSpan.FromMilliseconds(50);
    /// <summary>The most tickets a worker keeps a slot (trials of 3 ms and less at the default window).</summary>
    public const int MaxTicketDepth = 16;
    /// <summary>A trial running longer than this is queued again.</summary>
    public static readonly TimeSpan TrialDeadline = TimeSpan.FromHours(2);
    /// <summary>How often the coordinator checks deadlines and, after a store failure, the store.</summary>
    public static readonly TimeSpan StoreCheckInterval = TimeSpan.FromSeconds(5);
    /// <summary>A worker node in a cluster without a coordinator for this long rejoins (<see cref="CoordinatorWatch"/>).</summary>
    public static readonly TimeSpan CoordinatorGrace = TimeSpan.FromSeconds(30);
    /// <summary>
    /// How long a starting coordinator leaves the trials a previous one left running to their workers,
    /// which may be rejoining (failure detection, the resolver, <see cref="CoordinatorGrace"/>, the join),
    /// before it queues them again.
    /// </summary>
    public static readonly TimeSpan ResumeGrace = TimeSpan.FromMinutes(2);
    /// <summary>Failure detection: how long a silent node is tolerated before it is unreachable.</summary>
    public static readonly TimeSpan HeartbeatPause = TimeSpan.FromSeconds(10);
    /// <summary>Downing (<see cref="UnreachableDowning"/>): how long a member stays unreachable before it is downed.</summary>
    public static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(10);
    /// <summary>
    /// How long the host waits for a stopping node (CoordinatedShutdown: leave the cluster, hand the
    /// singleton over); below Kubernetes' terminationGracePeriodSeconds (60 s, k8s/base).
    /// </summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(45);
}
