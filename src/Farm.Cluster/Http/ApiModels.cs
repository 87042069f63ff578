using System.ComponentModel;
using System.Text.Json;
using Farm.Cluster.Protocol;

namespace Farm.Cluster.Http;

// The HTTP API's request and response bodies (docs/openapi.json), serialized by FarmJsonContext in
// snake_case: the wire shapes of docs/cluster.md, which farm submit/status/results and scripts read.
// The descriptions go into the OpenAPI document.

/// <summary>Every error: a status that says what kind, and one line that says what was wrong.</summary>
public sealed record ApiError(
    [property: Description("What was wrong and, for bad input, what is valid")] string Error);

/// <summary>
/// A submission as <see cref="FarmHttpApi.EnvelopeType"/>: the spec's text and the text of every
/// workload file it names, keyed by the path as written in the spec (the server opens no path).
/// </summary>
public sealed record SubmitRequest(
    [property: Description("The sweep spec's text, YAML or JSON (docs/sweeps.md)")] string Spec,
    [property: Description("The text of every workload file the spec names, keyed by the path as written in the spec")]
    IReadOnlyDictionary<string, string>? Workloads = null);

/// <summary>A sweep taken: how many trials it has, how many will run, how many were already done or under way.</summary>
public sealed record SubmitResponse(
    [property: Description("The sweep's id: a hash of its canonical spec, the same for the same sweep")] string Sweep,
    string Name,
    [property: Description("Distinct trials of the sweep")] int Trials,
    [property: Description("Trials queued by this submission (new, or failed/cancelled before)")] int ToRun,
    [property: Description("Trials already done, queued or running, not queued again")] int Reused);

/// <summary>A sweep's progress; <c>store_error</c> only while the store cannot be written (nothing is dispatched then).</summary>
public sealed record SweepProgress(
    string Sweep,
    string Name,
    [property: Description("Distinct trials of the sweep; the five counts below add up to it")] int Trials,
    int Queued,
    int Running,
    int Done,
    int Failed,
    int Cancelled,
    [property: Description("Done, failed and cancelled trials over all, 0 to 1, four decimals")] double Progress,
    [property: Description("Nothing is queued or running")] bool Complete,
    [property: Description("Why the store cannot be written (dispatch has stopped); absent while it is healthy")] string? StoreError = null)
{
    public static SweepProgress Of(SweepStatus s, string? storeError) =>
        new(s.Sweep.Value, s.Name, s.Trials, s.Queued, s.Running, s.Done, s.Failed, s.CancelledTrials, Math.Round(s.Progress, 4), s.Complete, storeError);
}

/// <summary>A cancel's answer: the queued and running trials it cancelled.</summary>
public sealed record CancelResponse(
    string Sweep,
    [property: Description("Queued and running trials cancelled (those another live sweep needs are kept)")] int TrialsCancelled);

/// <summary>
/// One position of a sweep's results (the shape of farm sweep's results.json): <c>result</c> is
/// the trial's result (RESULTS.md) when done, <c>error</c> why it failed.
/// </summary>
public sealed record SweepResult(
    [property: Description("The position in the sweep, from 0")] int Position,
    [property: Description("The trial's id (trials are shared between sweeps with the same configuration)")] string Trial,
    [property: Description("What this position varies: workload, variant, axis values, seed")] IReadOnlyDictionary<string, string> Labels,
    [property: Description("queued, running, done, failed or cancelled")] string Status,
    [property: Description("The trial's result (RESULTS.md) when done")] JsonElement? Result = null,
    [property: Description("Why the trial failed")] string? Error = null);
