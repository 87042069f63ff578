using Farm.Cluster.Protocol;

namespace Farm.Cluster.Store;

/// <summary>
/// What a submission did. <see cref="Trials"/> counts distinct trials (two positions of one
/// configuration are one trial); <see cref="ToRun"/> of them were queued by this submission (new,
/// or failed or cancelled before), <see cref="Reused"/> were already done, queued or running.
/// <see cref="Resubmitted"/>: the sweep id was already stored.
/// </summary>
public sealed record SubmitResult(SweepId Sweep, string Name, int Trials, int ToRun, int Reused, bool Resubmitted);

/// <summary>A stored sweep. <see cref="Order"/> is the submission order (1, 2, …); <see cref="Created"/> is the first submission's time.</summary>
public sealed record SweepRecord(SweepId Id, string Name, long Order, string SpecText, string Canonical, string Baseline, int Positions, bool Cancelled, DateTimeOffset Created);

/// <summary>A stored trial. <see cref="ConfigId"/> is the <c>trial.id</c> its result JSON carries (see TrialIdentity).</summary>
public sealed record TrialRecord(
    TrialId Id, string ConfigId, string Workload, long Seed, string Status, int Attempts,
    WorkerId? Worker, string? ResultJson, string? Error, string ConfigJson, DateTimeOffset Updated);
