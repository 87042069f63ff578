using System.Text.Json.Nodes;
using Farm.Cluster.Sweeps;

namespace Farm.Cluster.Http;

/// <summary>
/// What a client POSTs (as <see cref="FarmHttpApi.EnvelopeType"/>) to submit a sweep: the spec's
/// text and the text of every workload file it names, keyed by the path as written in the spec.
/// The server reads nothing from its own disk for a submission.
/// </summary>
public static class SubmitEnvelope
{
    /// <summary>The envelope of a spec parsed on the client (where its workload paths are the client's own files).</summary>
    public static string Of(SweepSpec spec) => new JsonObject
    {
        ["spec"] = spec.Text,
        ["workloads"] = new JsonObject(spec.Workloads.Select(w => KeyValuePair.Create(w.Path, (JsonNode?)w.Text))),
    }.ToJsonString();
}
