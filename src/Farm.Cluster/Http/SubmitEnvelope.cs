using System.Text.Json;
using System.Text.Json.Nodes;
using Farm.Cluster.Sweeps;

namespace Farm.Cluster.Http;

/// <summary>
/// What a client POSTs (as <see cref="FarmHttpApi.EnvelopeType"/>) to submit a sweep:
/// <c>{"spec": "...", "workloads": {"path": "text", ...}}</c>, the spec's text and the text of every
/// workload file it names, keyed by the path as written in the spec. The server reads nothing from its
/// own disk for a submission; an envelope is checked whole before anything reaches the coordinator:
/// every field of the right type, nothing else.
/// </summary>
public static class SubmitEnvelope
{
    /// <summary>The envelope of a spec parsed on the client (where its workload paths are the client's own files).</summary>
    public static string Of(SweepSpec spec) => JsonSerializer.Serialize(
        new SubmitRequest(spec.Text, spec.Workloads.ToDictionary(w => w.Path, w => w.Text)), FarmJsonContext.Default.SubmitRequest);

    private static readonly string[] Keys = ["spec", "workloads"];

    /// <summary>
    /// The spec and workload texts, or a FormatException saying what is wrong and what is valid
    /// (a ConfigException naming the limit when the body is over an input limit: docs/limits.md).
    /// </summary>
    public static (string Spec, Dictionary<string, string>? Workloads) Parse(string body)
    {
        Farm.Workloads.Input.GuardedJson.Check(body, "submit envelope"); // size, depth, nodes, before any tree is built
        JsonNode? root;
        try
        {
            // A key given twice is refused here: JsonObject would throw an ArgumentException (a 500) when first read.
            root = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new FormatException($"not JSON: {e.Message}");
        }
        if (root is not JsonObject envelope) throw new FormatException("must be a JSON object {\"spec\": \"...\", \"workloads\": {\"path\": \"text\"}}");
        if (envelope.Select(kv => kv.Key).FirstOrDefault(k => !Keys.Contains(k)) is { } unknown)
            throw new FormatException($"unknown key '{unknown}'; valid: {string.Join(", ", Keys)}");
        string spec = Text(envelope["spec"], "'spec'") ?? throw new FormatException("the envelope has no 'spec' (the sweep spec's text)");
        Dictionary<string, string>? workloads = null;
        switch (envelope["workloads"])
        {
            case null:
                break;
            case JsonObject map:
                workloads = [];
                foreach (var (path, text) in map)
                {
                    if (string.IsNullOrWhiteSpace(path)) throw new FormatException("'workloads' has an empty path");
                    workloads[path] = Text(text, $"workloads['{path}']") ?? throw new FormatException($"workloads['{path}'] is null; valid: the workload file's text");
                }
                break;
            default:
                throw new FormatException("'workloads' must be an object of path to file text");
        }
        return (spec, workloads);
    }

    private static string? Text(JsonNode? node, string what) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new FormatException($"{what} must be a string, not {node.GetValueKind().ToString().ToLowerInvariant()}"),
    };
}
