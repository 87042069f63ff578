using Farm.Cluster.Protocol;

namespace Farm.Cluster.Hosting;

/// <summary>
/// What one incarnation of a node hands to the actors of the next, beside its options: the
/// reports its worker holds unacknowledged (a rejoining worker sends them to the coordinator it
/// finds; <see cref="CoordinatorWatch"/>), and on a coordinator the trials the store says a
/// previous process left running (read once per process).
/// </summary>
internal sealed class NodeCarry
{
    /// <summary>The worker's unacknowledged reports by trial; the worker actor owns it while the node runs.</summary>
    public Dictionary<TrialId, IFarmMessage> Unacked { get; init; } = [];

    public IReadOnlyList<(TrialId Trial, WorkerId? Worker)> LeftRunning { get; init; } = [];
}
