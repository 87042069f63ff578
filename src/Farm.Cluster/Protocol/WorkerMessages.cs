using Farm.Simulation.Config;
using MessagePack;

namespace Farm.Cluster.Protocol;

// The pull protocol between workers and the coordinator. Workers ask; the coordinator never
// pushes work a worker did not ask for, so a busy or slow worker is never overloaded. A request
// that finds the queue empty is held, not answered empty: the coordinator answers it when trials
// are queued (a submission, a worker lost, a deadline missed). A worker resends a request left
// unanswered for a while (an answer may be lost), so a held request may be answered twice.
// A finished trial's report carries the worker's next request (TrialFinished.Next), and the
// coordinator answers both with one message (WorkItems.Acked) after one store transaction: two
// remote messages and one commit a trial where there were four and two (protocol 2).
// A worker whose trials are short holds more tickets than slots and reports their results several
// to a message (TrialsFinished), answered by one WorkItems that acknowledges them all after one
// transaction: the coordinator's cost of a message and a commit is shared by the batch (protocol 3,
// docs/cluster.md, "Short trials travel in batches").

// A worker registers with its first request, which also says what it speaks: the protocol
// version and the model version of its build (FarmProtocol). The coordinator refuses a worker of
// another build (WorkerRefused) and never dispatches to it, so a ticket never reaches a worker
// that cannot read it or would compute another trial id.

/// <summary>Worker → coordinator: "I can take <paramref name="FreeSlots"/> tickets": its free slots, or more when its trials are short
/// (<see cref="Worker.TicketDepth"/>: it keeps tickets in hand so that results travel in batches). Answered by <see cref="WorkItems"/> once trials are queued (held until then); at once and empty only when FreeSlots is 0. A new request replaces the worker's held one.
/// <paramref name="Protocol"/> and <paramref name="Model"/> are the worker build's versions (<see cref="FarmProtocol"/>); a build before
/// versions sent neither (read as 0 and null). A worker whose versions are not the coordinator's is answered <see cref="WorkerRefused"/>.
/// <paramref name="Slots"/>: the worker's slots (protocol 3; 0: not said). A request that finds the queue empty is held cut to
/// them: the trials it waits for may be long ones of a sweep not yet seen, so a worker gets no more of them than it runs at once.
/// <paramref name="Keeps"/>: the most tickets the worker keeps now, its slots times its depth (protocol 3; 0: not said): the
/// coordinator gives it no more than that less the tickets out with it (a late or repeated request is not answered twice).</summary>
[MessagePackObject]
public sealed record RequestWork(
    [property: Key(0)] WorkerId Worker,
    [property: Key(1)] int FreeSlots,
    [property: Key(2)] int Protocol,
    [property: Key(3)] string? Model,
    [property: Key(4)] int Slots = 0,
    [property: Key(5)] int Keeps = 0) : IFarmMessage
{
    /// <summary>A request of this build: its protocol and model versions; <paramref name="slots"/> and <paramref name="keeps"/> 0: not said.</summary>
    public RequestWork(WorkerId worker, int freeSlots, int slots = 0, int keeps = 0) : this(worker, freeSlots, FarmProtocol.Version, FarmProtocol.Model, slots, keeps)
    {
    }
}

/// <summary>Coordinator → worker: the worker's build is not the coordinator's (<see cref="FarmProtocol.Mismatch"/>);
/// it gets no trials. Carries the coordinator's versions so that the worker can say both. Sent only to a worker that
/// sent a protocol version (a build before versions could not read it).</summary>
[MessagePackObject]
public sealed record WorkerRefused([property: Key(0)] int Protocol, [property: Key(1)] string Model) : IFarmMessage;

/// <summary>
/// The versions a node's build speaks. <see cref="Version"/> is raised whenever a message's wire
/// format changes so that another build cannot read it (a key's type or meaning, a field a reader
/// needs, a message a worker must understand): nodes of two versions never exchange trials.
/// <see cref="Model"/> is the model version that trial ids hash (<see cref="ConfigSchema.ModelVersion"/>):
/// a worker of another model computes other ids and its results could not be stored.
/// </summary>
public static class FarmProtocol
{
    /// <summary>1: the first build that sends its versions; 0 stands for every build before.
    /// 2: a result carries the next request (<see cref="TrialFinished.Next"/>) and work carries the
    /// acknowledgement (<see cref="WorkItems.Acked"/>); a build of 1 would hold a request it never sees.
    /// 3: results travel in batches (<see cref="TrialsFinished"/>, acknowledged by <see cref="WorkItems.AckedToo"/> or
    /// <see cref="Ack.Too"/>), tickets go back (<see cref="TicketsReturned"/>); a build of 2 cannot read either.</summary>
    public const int Version = 3;

    public const string Model = ConfigSchema.ModelVersion;

    /// <summary>Null when a worker of these versions may run this build's trials; otherwise both sides' versions, for a log line.</summary>
    public static string? Mismatch(int workerProtocol, string? workerModel, int coordinatorProtocol = Version, string coordinatorModel = Model) =>
        workerProtocol == coordinatorProtocol && workerModel == coordinatorModel
            ? null
            : $"the worker speaks protocol {Describe(workerProtocol)} with model {workerModel ?? "(not sent)"}, "
              + $"the coordinator protocol {coordinatorProtocol} with model {coordinatorModel}";

    private static string Describe(int protocol) => protocol == 0 ? "0 (a build before protocol versions)" : protocol.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Coordinator → worker: one to the free tickets asked for, never empty for a request with free tickets
/// (that request is held instead); the worker keeps them in its backlog until a slot frees.
/// <paramref name="Acked"/>: the answer to a <see cref="TrialFinished"/> that carried a request also acknowledges
/// its result (stored, in the same transaction that took these tickets), as an <see cref="Ack"/> would; set on the
/// first message of a chunked answer only. <paramref name="AckedToo"/>: the other results of a <see cref="TrialsFinished"/> it answers
/// (protocol 3), on the first message too. <paramref name="Held"/> (protocol 3): the tickets answer a request that was held
/// (the queue was empty): they may be of another sweep than the worker's last trials, which earned it its depth.</summary>
[MessagePackObject]
public sealed record WorkItems(
    [property: Key(0)] IReadOnlyList<TrialTicket> Tickets,
    [property: Key(1)] TrialId? Acked = null,
    [property: Key(2)] IReadOnlyList<TrialId>? AckedToo = null,
    [property: Key(3)] bool Held = false) : IFarmMessage
{
    /// <summary>Every result this answer acknowledges.</summary>
    public IEnumerable<TrialId> AllAcked() => Acked is { } first ? [first, .. AckedToo ?? []] : AckedToo ?? [];
}

/// <summary>Worker → coordinator: a trial ran (any outcome, host-bug included); the result JSON of RESULTS.md.
/// Sent again until it is acknowledged (<see cref="Ack"/> or <see cref="WorkItems.Acked"/>); storing is idempotent by trial id.
/// <paramref name="Next"/>: the worker's next request for work, when it would have sent one right after the result
/// (the first copy only; a resend carries none). The coordinator stores the result and takes the trials for the
/// request in one transaction and answers with <see cref="WorkItems"/> carrying the acknowledgement, or, when none
/// is queued, with <see cref="Ack"/> and holds the request, as it holds a <see cref="RequestWork"/>.</summary>
[MessagePackObject]
public sealed record TrialFinished(
    [property: Key(0)] TrialId Trial,
    [property: Key(1)] WorkerId Worker,
    [property: Key(2)] string ResultJson,
    [property: Key(3)] RequestWork? Next = null) : IFarmMessage;

/// <summary>Worker → coordinator: the results of several trials (each a <see cref="TrialFinished"/> without a request) and the
/// worker's next request: what a worker whose trials are short sends instead of one <see cref="TrialFinished"/> each (protocol 3).
/// The coordinator stores them and takes the request's trials in one transaction and answers with one <see cref="WorkItems"/>
/// acknowledging them all, or, when none is queued, with one <see cref="Ack"/> and holds the request. Results are sent again one by
/// one until acknowledged, as any result; a batch is kept under the chunk budget (<see cref="ProtocolLimits.ChunkBudgetBytes"/>).</summary>
[MessagePackObject]
public sealed record TrialsFinished(
    [property: Key(0)] IReadOnlyList<TrialFinished> Results,
    [property: Key(1)] RequestWork? Next = null) : IFarmMessage;

/// <summary>Worker → coordinator (protocol 3): tickets it kept and has not started, given back because its trials turned out long
/// (its depth fell): the coordinator queues them again, an attempt less (they never ran), for any worker. Not acknowledged: if it is
/// lost, the trials are queued again at their deadline or when the worker leaves.</summary>
[MessagePackObject]
public sealed record TicketsReturned([property: Key(0)] WorkerId Worker, [property: Key(1)] IReadOnlyList<TrialId> Trials) : IFarmMessage;

/// <summary>Worker → coordinator: the trial could not be run (e.g. its ticket did not rebuild). Also acknowledged.</summary>
[MessagePackObject]
public sealed record TrialFailed([property: Key(0)] TrialId Trial, [property: Key(1)] WorkerId Worker, [property: Key(2)] string Error) : IFarmMessage;

/// <summary>Coordinator → worker: the trial's result or failure is stored; stop resending it.
/// <paramref name="Too"/>: the other results of a <see cref="TrialsFinished"/> it answers.</summary>
[MessagePackObject]
public sealed record Ack([property: Key(0)] TrialId Trial, [property: Key(1)] IReadOnlyList<TrialId>? Too = null) : IFarmMessage
{
    /// <summary>Every result this acknowledges.</summary>
    public IEnumerable<TrialId> All() => [Trial, .. Too ?? []];
}
