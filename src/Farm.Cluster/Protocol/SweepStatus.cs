using MessagePack;

namespace Farm.Cluster.Protocol;

/// <summary>
/// A sweep's progress. Counts are of distinct trials by status (a trial at two positions of the
/// sweep counts once). <see cref="Order"/> is the submission order (1, 2, …).
/// </summary>
[MessagePackObject]
public sealed record SweepStatus(
    [property: Key(0)] SweepId Sweep,
    [property: Key(1)] string Name,
    [property: Key(2)] long Order,
    [property: Key(3)] bool Cancelled,
    [property: Key(4)] int Trials,
    [property: Key(5)] int Queued,
    [property: Key(6)] int Running,
    [property: Key(7)] int Done,
    [property: Key(8)] int Failed,
    [property: Key(9)] int CancelledTrials)
{
    /// <summary>Nothing left to run: every trial is done, failed or cancelled.</summary>
    [IgnoreMember]
    public bool Complete => Queued + Running == 0;

    /// <summary>The settled fraction, 0 to 1: done, failed or cancelled trials over all trials.</summary>
    [IgnoreMember]
    public double Progress => Trials == 0 ? 1 : (double)(Done + Failed + CancelledTrials) / Trials;
}
