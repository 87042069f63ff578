using MessagePack;

namespace Farm.Cluster.Protocol;

// The pull protocol between workers and the coordinator. Workers ask; the coordinator never
// pushes work a worker did not ask for, so a busy or slow worker is never overloaded. A request
// that finds the queue empty is held, not answered empty: the coordinator answers it when trials
// are queued (a submission, a worker lost, a deadline missed). A worker resends a request left
// unanswered for a while (an answer may be lost), so a held request may be answered twice.

/// <summary>Worker → coordinator: "I have <paramref name="FreeSlots"/> free slots". Answered by <see cref="WorkItems"/> once trials are queued (held until then); at once and empty only when FreeSlots is 0. A new request replaces the worker's held one.</summary>
[MessagePackObject]
public sealed record RequestWork([property: Key(0)] WorkerId Worker, [property: Key(1)] int FreeSlots) : IFarmMessage;

/// <summary>Coordinator → worker: one to the free slots asked for, never empty for a request with free slots
/// (that request is held instead); the worker keeps tickets beyond its free slots for later rather than dropping them.</summary>
[MessagePackObject]
public sealed record WorkItems([property: Key(0)] IReadOnlyList<TrialTicket> Tickets) : IFarmMessage;

/// <summary>Worker → coordinator: a trial ran (any outcome, host-bug included); the result JSON of RESULTS.md.
/// Sent again until <see cref="Ack"/> arrives; storing is idempotent by trial id.</summary>
[MessagePackObject]
public sealed record TrialFinished([property: Key(0)] TrialId Trial, [property: Key(1)] WorkerId Worker, [property: Key(2)] string ResultJson) : IFarmMessage;

/// <summary>Worker → coordinator: the trial could not be run (e.g. its ticket did not rebuild). Also acknowledged.</summary>
[MessagePackObject]
public sealed record TrialFailed([property: Key(0)] TrialId Trial, [property: Key(1)] WorkerId Worker, [property: Key(2)] string Error) : IFarmMessage;

/// <summary>Coordinator → worker: the trial's result or failure is stored; stop resending it.</summary>
[MessagePackObject]
public sealed record Ack([property: Key(0)] TrialId Trial) : IFarmMessage;
