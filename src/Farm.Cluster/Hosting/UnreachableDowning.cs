using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Farm.Cluster.Hosting;

/// <summary>
/// The farm's downing provider: every member downs a member it has seen unreachable for
/// <c>akka.cluster.split-brain-resolver.stable-after</c>, and never itself. A farm has one store
/// that one coordinator at a time can hold (its exclusive lock), so a partition cannot give two
/// coordinators writing one store, and workers on a side without a coordinator rejoin by
/// themselves (<c>CoordinatorWatch</c>). Akka's strategies count sides instead: keep-majority downed
/// the coordinator on a one-against-one tie, keep-oldest with down-if-alone downs the surviving
/// worker when the coordinator dies while only one worker is Up (docs/failure-behaviour.md).
/// </summary>
public sealed class UnreachableDowning : IDowningProvider
{
    public const string ProviderClass = "Farm.Cluster.Hosting.UnreachableDowning, Farm.Cluster";

    private readonly Akka.Cluster.Cluster _cluster;
    private readonly TimeSpan _stableAfter;

    public UnreachableDowning(ActorSystem system, Akka.Cluster.Cluster cluster)
    {
        _cluster = cluster;
        _stableAfter = system.Settings.Config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after", TimeSpan.FromSeconds(20));
    }

    public TimeSpan DownRemovalMargin => TimeSpan.Zero;

    public Props DowningActorProps => Props.Create(() => new UnreachableDowningActor(_cluster, _stableAfter));
}

/// <summary>Downs a member once it has stayed unreachable for the stable-after time.</summary>
internal sealed class UnreachableDowningActor : ReceiveActor, IWithTimers
{
    private sealed record DownIfStillUnreachable(UniqueAddress Node);

    private readonly Akka.Cluster.Cluster _cluster;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ITimerScheduler Timers { get; set; } = null!;

    public UnreachableDowningActor(Akka.Cluster.Cluster cluster, TimeSpan stableAfter)
    {
        _cluster = cluster;
        Receive<ClusterEvent.UnreachableMember>(m =>
            Timers.StartSingleTimer(m.Member.UniqueAddress, new DownIfStillUnreachable(m.Member.UniqueAddress), stableAfter));
        Receive<ClusterEvent.ReachableMember>(m => Timers.Cancel(m.Member.UniqueAddress));
        Receive<ClusterEvent.MemberRemoved>(m => Timers.Cancel(m.Member.UniqueAddress));
        Receive<DownIfStillUnreachable>(d =>
        {
            if (d.Node.Equals(_cluster.SelfUniqueAddress)) return;
            if (!_cluster.State.Unreachable.Any(m => m.UniqueAddress.Equals(d.Node))) return;
            _log.Warning("downing {0}: unreachable for {1} s", d.Node.Address, (int)stableAfter.TotalSeconds);
            _cluster.Down(d.Node.Address);
        });
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
    }

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop() => _cluster.Unsubscribe(Self);
}
