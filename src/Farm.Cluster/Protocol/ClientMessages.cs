using MessagePack;

namespace Farm.Cluster.Protocol;

// Client ↔ coordinator: what the HTTP API and the CLI ask of the coordinator.

/// <summary>
/// Submit a sweep spec (YAML or JSON). <paramref name="WorkloadTexts"/> holds workload files' text
/// under the path as written in the spec. Without a <paramref name="BaseDir"/> (a remote client,
/// the HTTP API) every workload must be there: the coordinator never opens a path a client named.
/// With one (farm sweep, in-process) other paths are read from that node's disk. Answered by
/// <see cref="SweepAccepted"/> or <see cref="SweepRejected"/>.
/// </summary>
[MessagePackObject]
public sealed record SubmitSweep(
    [property: Key(0)] string SpecText,
    [property: Key(1)] string? BaseDir = null,
    [property: Key(2)] IReadOnlyDictionary<string, string>? WorkloadTexts = null) : IFarmMessage;

/// <summary>The sweep is stored. <paramref name="ToRun"/> trials were queued by this submission (new, or failed or
/// cancelled before); <paramref name="Reused"/> were already done or already queued or running.</summary>
[MessagePackObject]
public sealed record SweepAccepted(
    [property: Key(0)] SweepId Sweep,
    [property: Key(1)] string Name,
    [property: Key(2)] int Trials,
    [property: Key(3)] int ToRun,
    [property: Key(4)] int Reused,
    [property: Key(5)] bool Resubmitted) : IFarmMessage;

/// <summary>The spec is invalid (the error names the key and what is valid) or too large; nothing was stored.</summary>
[MessagePackObject]
public sealed record SweepRejected([property: Key(0)] string Error) : IFarmMessage;

/// <summary>Status of one sweep, or of every sweep when <paramref name="Sweep"/> is null. Answered by <see cref="StatusReply"/>.</summary>
[MessagePackObject]
public sealed record GetStatus([property: Key(0)] SweepId? Sweep = null) : IFarmMessage;

/// <summary>Sweeps in submission order. <paramref name="StoreError"/>: the store cannot be written and dispatch has
/// stopped (the counts are what the store held last); null when the store is healthy.</summary>
[MessagePackObject]
public sealed record StatusReply(
    [property: Key(0)] IReadOnlyList<SweepStatus> Sweeps,
    [property: Key(1)] string? StoreError = null) : IFarmMessage;

/// <summary>Cancel a sweep: its queued and running trials that no other live sweep needs. Answered by <see cref="SweepCancelled"/>.</summary>
[MessagePackObject]
public sealed record CancelSweep([property: Key(0)] SweepId Sweep) : IFarmMessage;

[MessagePackObject]
public sealed record SweepCancelled([property: Key(0)] SweepId Sweep, [property: Key(1)] int TrialsCancelled) : IFarmMessage;

/// <summary>A sweep's results. Answered by <see cref="ResultsChunk"/> messages 0 … Total-1, in order.</summary>
[MessagePackObject]
public sealed record GetResults([property: Key(0)] SweepId Sweep) : IFarmMessage;

/// <summary>Chunk <paramref name="Index"/> of <paramref name="Total"/> (at least one, even for no items); items in sweep order.</summary>
[MessagePackObject]
public sealed record ResultsChunk(
    [property: Key(0)] SweepId Sweep,
    [property: Key(1)] int Index,
    [property: Key(2)] int Total,
    [property: Key(3)] IReadOnlyList<SweepResultItem> Items) : IFarmMessage;

/// <summary>The answer to any request naming a sweep the store does not have.</summary>
[MessagePackObject]
public sealed record UnknownSweep([property: Key(0)] SweepId Sweep) : IFarmMessage;

/// <summary>Asks for a sweep's definition (for reports: its spec text and baseline).</summary>
[MessagePackObject]
public sealed record GetSweep([property: Key(0)] SweepId Sweep) : IFarmMessage;

/// <summary>A sweep's definition as submitted.</summary>
[MessagePackObject]
public sealed record SweepInfo(
    [property: Key(0)] SweepId Sweep,
    [property: Key(1)] string Name,
    [property: Key(2)] string SpecText,
    [property: Key(3)] string Baseline) : IFarmMessage;

/// <summary>
/// A page of a sweep's results: the positions from <paramref name="FromPosition"/> on, at most
/// <paramref name="MaxItems"/> and at most one message's worth. Answered by <see cref="ResultsPage"/>
/// or <see cref="UnknownSweep"/>. Pages keep the coordinator's memory and time per request bounded.
/// </summary>
[MessagePackObject]
public sealed record GetResultsPage(
    [property: Key(0)] SweepId Sweep,
    [property: Key(1)] int FromPosition,
    [property: Key(2)] int MaxItems) : IFarmMessage;

/// <summary>Items in sweep order; <paramref name="NextPosition"/> is where the next page starts, null after the last.</summary>
[MessagePackObject]
public sealed record ResultsPage(
    [property: Key(0)] SweepId Sweep,
    [property: Key(1)] IReadOnlyList<SweepResultItem> Items,
    [property: Key(2)] int? NextPosition) : IFarmMessage;

/// <summary>
/// The coordinator could not answer a request: <paramref name="Unavailable"/> when its store
/// cannot be used (try again later), otherwise an unexpected error (a bug; the coordinator carries on).
/// </summary>
[MessagePackObject]
public sealed record RequestFailed(
    [property: Key(0)] string Error,
    [property: Key(1)] bool Unavailable) : IFarmMessage;
