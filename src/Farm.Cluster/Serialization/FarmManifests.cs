using Farm.Cluster.Protocol;

namespace Farm.Cluster.Serialization;

/// <summary>
/// The string manifest of every protocol message: the one table the serializer reads. A
/// manifest is a wire name, so renaming a C# type never breaks a mixed-version cluster; a
/// manifest is never reused for another shape.
/// </summary>
public static class FarmManifests
{
    public static readonly IReadOnlyList<(string Manifest, Type Type)> All =
    [
        ("farm.request-work", typeof(RequestWork)),
        ("farm.work-items", typeof(WorkItems)),
        ("farm.trial-finished", typeof(TrialFinished)),
        ("farm.trial-failed", typeof(TrialFailed)),
        ("farm.ack", typeof(Ack)),
        ("farm.submit-sweep", typeof(SubmitSweep)),
        ("farm.sweep-accepted", typeof(SweepAccepted)),
        ("farm.sweep-rejected", typeof(SweepRejected)),
        ("farm.get-status", typeof(GetStatus)),
        ("farm.status-reply", typeof(StatusReply)),
        ("farm.cancel-sweep", typeof(CancelSweep)),
        ("farm.sweep-cancelled", typeof(SweepCancelled)),
        ("farm.get-results", typeof(GetResults)),
        ("farm.results-chunk", typeof(ResultsChunk)),
        ("farm.unknown-sweep", typeof(UnknownSweep)),
        ("farm.get-sweep", typeof(GetSweep)),
        ("farm.sweep-info", typeof(SweepInfo)),
        ("farm.get-results-page", typeof(GetResultsPage)),
        ("farm.results-page", typeof(ResultsPage)),
        ("farm.request-failed", typeof(RequestFailed)),
        ("farm.worker-refused", typeof(WorkerRefused)),
        ("farm.trials-finished", typeof(TrialsFinished)),
        ("farm.tickets-returned", typeof(TicketsReturned)),
    ];

    private static readonly Dictionary<string, Type> ByManifest = All.ToDictionary(m => m.Manifest, m => m.Type);
    private static readonly Dictionary<Type, string> ByType = All.ToDictionary(m => m.Type, m => m.Manifest);

    public static bool TryGetType(string manifest, out Type type) => ByManifest.TryGetValue(manifest, out type!);

    public static bool TryGetManifest(Type type, out string manifest) => ByType.TryGetValue(type, out manifest!);
}
