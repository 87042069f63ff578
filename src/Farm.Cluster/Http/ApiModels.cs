using System.Text.Json;
using Farm.Cluster.Protocol;

namespace Farm.Cluster.Http;

// The HTTP API's request and response bodies (docs/openapi.json), serialized by FarmJsonContext in
// snake_case: the wire shapes of docs/cluster.md, which farm submit/status/results and scripts read.

/// <summary>Every error: a status that says what kind, and one line that says what was wrong.</summary>
public sealed record ApiError(string Error);

/// <summary>
/// A submission as <see cref="FarmHttpApi.EnvelopeType"/>: the spec's text and the text of every
/// workload file it names, keyed by the path as written in the spec (the server opens no path).
/// </summary>
public sealed record SubmitRequest(string Spec, IReadOnlyDictionary<string, string>? Workloads = null);

/// <summary>A sweep taken: how many trials it has, how many will run, how many were already done or under way.</summary>
public sealed record SubmitResponse(string Sweep, string Name, int Trials, int ToRun, int Reused);

/// <summary>A sweep's progress; <c>store_error</c> only while the store cannot be written (nothing is dispatched then).</summary>
public sealed record SweepProgress(
    string Sweep, string Name, int Trials, int Queued, int Running, int Done, int Failed, int Cancelled, double Progress, bool Complete,
    string? StoreError = null)
{
    public static SweepProgress Of(SweepStatus s, string? storeError) =>
        new(s.Sweep.Value, s.Name, s.Trials, s.Queued, s.Running, s.Done, s.Failed, s.CancelledTrials, Math.Round(s.Progress, 4), s.Complete, storeError);
}

/// <summary>A cancel's answer: the queued and running trials it cancelled.</summary>
public sealed record CancelResponse(string Sweep, int TrialsCancelled);

/// <summary>
/// One position of a sweep's results (the shape of farm sweep's results.json): <c>result</c> is
/// the trial's result (RESULTS.md) when done, <c>error</c> why it failed.
/// </summary>
public sealed record SweepResult(int Position, string Trial, IReadOnlyDictionary<string, string> Labels, string Status, JsonElement? Result = null, string? Error = null);
