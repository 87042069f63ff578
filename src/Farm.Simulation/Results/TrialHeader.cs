using System.Text.Json.Nodes;

namespace Farm.Simulation.Results;

/// <summary>
/// A result's <c>trial</c> section (RESULTS.md), typed: id, workload, seed, policy, engine, model
/// version and the resolved configuration (every value as text, in the result's key order).
/// </summary>
public sealed record TrialHeader(string Id, string Workload, long Seed, string Policy, string Engine, string ModelVersion,
    IReadOnlyList<KeyValuePair<string, string>> Config)
{
    /// <summary>A configuration value, or null.</summary>
    public string? ConfigValue(string key)
    {
        foreach (var (k, v) in Config)
            if (k == key) return v;
        return null;
    }

    /// <summary>Reads the <c>trial</c> section of <paramref name="root"/>; missing fields read as empty (0 for the seed).</summary>
    public static TrialHeader Of(JsonObject root)
    {
        var t = root["trial"] as JsonObject;
        var config = t?["config"] is JsonObject c
            ? c.Select(kv => KeyValuePair.Create(kv.Key, Text(kv.Value) ?? "")).ToList()
            : [];
        long seed = t?["seed"] is JsonValue s && s.TryGetValue(out long l) ? l : 0;
        return new TrialHeader(Text(t?["id"]) ?? "", Text(t?["workload"]) ?? "", seed, Text(t?["policy"]) ?? "",
            Text(t?["engine"]) ?? "", Text(t?["model_version"]) ?? "", config);
    }

    private static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => node.ToJsonString(),
    };
}
