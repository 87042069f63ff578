using Akka.Actor;
using Akka.Event;
using Farm.Cluster.Protocol;

namespace Farm.Cluster.Coordinator;

/// <summary>
/// Workers of another build (docs/failure-behaviour.md, "Workers of another build"): a request
/// whose protocol or model version is not this build's is refused, logged once per worker, and
/// never dispatched to, held or watched. The worker is told the coordinator's versions, unless it
/// is of a build before versions, which could not read the answer.
/// </summary>
public sealed partial class CoordinatorActor
{
    /// <summary>Refused workers remembered so that each is logged once.</summary>
    private const int MaxRememberedRefusals = 10_000;

    private readonly HashSet<WorkerId> _refused = [];

    private void Refuse(RequestWork w, string mismatch)
    {
        if (_refused.Count >= MaxRememberedRefusals) _refused.Clear();
        if (_refused.Add(w.Worker))
            _log.Warning("coordinator: refused worker {0}: {1}; it gets no trials (run coordinator and workers of one build)", w.Worker, mismatch);
        if (w.Protocol > 0) Sender.Tell(new WorkerRefused(FarmProtocol.Version, FarmProtocol.Model));
    }
}
