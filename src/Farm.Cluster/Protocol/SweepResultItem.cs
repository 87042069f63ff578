using MessagePack;

namespace Farm.Cluster.Protocol;

/// <summary>
/// One position of a sweep and its trial: the labels (workload, variant, axis values, seed), the
/// trial's status, and its result JSON (RESULTS.md) when done or its error when failed.
/// </summary>
[MessagePackObject]
public sealed record SweepResultItem(
    [property: Key(0)] int Position,
    [property: Key(1)] TrialId Trial,
    [property: Key(2)] IReadOnlyList<Setting> Labels,
    [property: Key(3)] string Status,
    [property: Key(4)] string? ResultJson,
    [property: Key(5)] string? Error)
{
    [IgnoreMember]
    public string Description => string.Join(' ', Labels);
}
