using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Farm.Cluster.Worker;

namespace Farm.Cluster.Hosting;

/// <summary>
/// On a worker-only node: notices when the cluster has had no coordinator for
/// <see cref="NodeOptions.CoordinatorGrace"/> and makes the node rejoin. A coordinator restarted
/// without the workers as seeds (or on another address) forms a cluster of its own, while the
/// workers stay in the old one, where they down and remove the dead coordinator; an
/// Akka node joins one cluster per actor-system life, so the node must start again to reach the
/// new one (docs/failure-behaviour.md, "A worker without a coordinator rejoins"). First the
/// worker finishes its running trials (<see cref="WorkerActor.Drain"/>), so that none is lost or
/// run again; then the node leaves with <see cref="RejoinReason"/> and <c>farm serve</c> starts it
/// again, joining through its seeds or discovery, carrying the results no coordinator acknowledged.
/// A coordinator that joins meanwhile (the usual restart: same address, the workers as seeds)
/// cancels all of it.
/// </summary>
internal sealed class CoordinatorWatch : ReceiveActor, IWithTimers
{
    private sealed class Absent
    {
        public static readonly Absent Instance = new();
    }

    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<UniqueAddress> _coordinators = [];
    private readonly IActorRef _worker;
    private readonly TimeSpan _grace;
    private bool _selfUp;
    private bool _draining;
    private string _lastGone = "none was ever seen";

    public ITimerScheduler Timers { get; set; } = null!;

    public CoordinatorWatch(IActorRef worker, TimeSpan grace)
    {
        _worker = worker;
        _grace = grace;
        Receive<ClusterEvent.IMemberEvent>(e =>
        {
            var m = e.Member;
            if (m.UniqueAddress.Equals(_cluster.SelfUniqueAddress) && e is ClusterEvent.MemberUp or ClusterEvent.MemberWeaklyUp) _selfUp = true;
            if (m.HasRole(CoordinatorProxy.Role))
            {
                if (e is ClusterEvent.MemberJoined or ClusterEvent.MemberUp or ClusterEvent.MemberWeaklyUp) _coordinators.Add(m.UniqueAddress);
                else if (_coordinators.Remove(m.UniqueAddress)) _lastGone = $"the last, {m.Address}, {Describe(e)}";
            }
            Check();
        });
        Receive<Absent>(_ =>
        {
            if (!IsAbsent() || _draining) return;
            _draining = true;
            _log.Warning("worker node {0}: the cluster has had no coordinator for {1} s ({2}); finishing the running trials, then rejoining through the seed nodes or discovery",
                _cluster.SelfAddress, _grace.TotalSeconds, _lastGone);
            _worker.Tell(WorkerActor.Drain.Instance);
        });
        Receive<WorkerActor.Drained>(_ =>
        {
            if (!_draining) return;
            _log.Warning("worker node {0}: leaving the cluster to rejoin (the results no coordinator acknowledged are kept and sent again)", _cluster.SelfAddress);
            CoordinatedShutdown.Get(Context.System).Run(RejoinReason.Instance);
        });
    }

    protected override void PreStart() => _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private bool IsAbsent() => _selfUp && _coordinators.Count == 0;

    private void Check()
    {
        if (IsAbsent())
        {
            if (!_draining && !Timers.IsTimerActive("absent")) Timers.StartSingleTimer("absent", Absent.Instance, _grace);
            return;
        }
        Timers.Cancel("absent");
        if (!_draining) return;
        _draining = false;
        _log.Warning("worker node {0}: a coordinator joined; not rejoining", _cluster.SelfAddress);
        _worker.Tell(WorkerActor.Resume.Instance);
    }

    private static string Describe(ClusterEvent.IMemberEvent e) => e switch
    {
        ClusterEvent.MemberRemoved => "was removed",
        ClusterEvent.MemberDowned => "was downed",
        _ => "left",
    };
}

/// <summary>Why a worker node stopped: to start again and rejoin (<see cref="CoordinatorWatch"/>).</summary>
public sealed class RejoinReason : CoordinatedShutdown.Reason
{
    public static readonly RejoinReason Instance = new();

    private RejoinReason()
    {
    }

    /// <summary>The process does not exit for it (<c>exit-clr</c> is off): <c>farm serve</c> starts the node again.</summary>
    public override int ExitCode => 0;
}
