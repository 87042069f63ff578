namespace Farm.Cluster.Protocol;

/// <summary>A trial's status in the store, as text (the store's column and the API use the same words).</summary>
public static class TrialStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Done = "done";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All = [Queued, Running, Done, Failed, Cancelled];
}
