using Farm.Cluster.Sweeps;

namespace Farm.Cluster.Coordinator;

/// <summary>
/// A sweep its submitter has already parsed, validated and expanded (<see cref="SweepSpec.Parse"/>):
/// the coordinator stores it without parsing it again. In-process only: <c>farm sweep</c>'s
/// embedded node, whose coordinator runs in the same process as the command that read the file.
/// Not an <c>IFarmMessage</c> and never serialized; a client on another node sends
/// <c>SubmitSweep</c> with the texts. Answered like <c>SubmitSweep</c>.
/// </summary>
public sealed record SubmitParsedSweep(SweepSpec Spec);
