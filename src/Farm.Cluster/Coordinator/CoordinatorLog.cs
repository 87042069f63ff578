using Microsoft.Extensions.Logging;

namespace Farm.Cluster.Coordinator;

/// <summary>
/// The coordinator's state changes, one log line each, with the ids as structured fields
/// (<c>SweepId</c>, <c>TrialId</c>, <c>WorkerId</c>: the JSON console writes them under
/// <c>State</c>). A trial shared by several sweeps names them all in <c>SweepId</c>, comma-separated.
/// Event ids are stable: a log query may select on them (docs/cluster.md, "Logs").
/// </summary>
internal static partial class CoordinatorLog
{
    [LoggerMessage(EventId = 1001, EventName = "SweepSubmitted", Level = LogLevel.Information,
        Message = "sweep {SweepId} ({SweepName}) submitted: {Trials} trials, {ToRun} to run, {Reused} already stored")]
    public static partial void SweepSubmitted(ILogger logger, string sweepId, string sweepName, int trials, int toRun, int reused);

    [LoggerMessage(EventId = 1002, EventName = "TrialDispatched", Level = LogLevel.Information,
        Message = "trial {TrialId} of sweep {SweepId} dispatched to worker {WorkerId}")]
    public static partial void TrialDispatched(ILogger logger, string trialId, string sweepId, string workerId);

    [LoggerMessage(EventId = 1003, EventName = "ResultStored", Level = LogLevel.Information,
        Message = "result of trial {TrialId} of sweep {SweepId} stored (worker {WorkerId})")]
    public static partial void ResultStored(ILogger logger, string trialId, string sweepId, string workerId);

    [LoggerMessage(EventId = 1004, EventName = "TrialFailed", Level = LogLevel.Warning,
        Message = "trial {TrialId} of sweep {SweepId} failed on worker {WorkerId}: {Error}")]
    public static partial void TrialFailed(ILogger logger, string trialId, string sweepId, string workerId, string error);

    [LoggerMessage(EventId = 1005, EventName = "SweepDone", Level = LogLevel.Information,
        Message = "sweep {SweepId} ({SweepName}) done: {Done} done, {Failed} failed, {Cancelled} cancelled of {Trials} trials")]
    public static partial void SweepDone(ILogger logger, string sweepId, string sweepName, int done, int failed, int cancelled, int trials);

    [LoggerMessage(EventId = 1006, EventName = "WorkerJoined", Level = LogLevel.Information,
        Message = "worker {WorkerId} asks for work ({FreeSlots} free slots)")]
    public static partial void WorkerJoined(ILogger logger, string workerId, int freeSlots);

    [LoggerMessage(EventId = 1007, EventName = "WorkerLost", Level = LogLevel.Warning,
        Message = "worker {WorkerId} left; {Requeued} trial(s) queued again")]
    public static partial void WorkerLost(ILogger logger, string workerId, int requeued);

    [LoggerMessage(EventId = 1008, EventName = "DeadlineMissed", Level = LogLevel.Warning,
        Message = "trial {TrialId} of sweep {SweepId} missed its deadline on worker {WorkerId} and was queued again")]
    public static partial void DeadlineMissed(ILogger logger, string trialId, string sweepId, string workerId);

    [LoggerMessage(EventId = 1009, EventName = "RequeuedAtStart", Level = LogLevel.Warning,
        Message = "{Requeued} trial(s) left running by a previous coordinator: each is queued again unless its worker reports it first (docs/failure-behaviour.md)")]
    public static partial void RequeuedAtStart(ILogger logger, int requeued);

    [LoggerMessage(EventId = 1010, EventName = "TicketReturned", Level = LogLevel.Information,
        Message = "trial {TrialId} of sweep {SweepId} given back unstarted by worker {WorkerId} and queued again")]
    public static partial void TicketReturned(ILogger logger, string trialId, string sweepId, string workerId);
}
