using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Farm.Simulation.Results;

/// <summary>
/// One trial's result with the field names of RESULTS.md, in its order. Everything except
/// <c>run</c> is a deterministic function of (configuration, seed, model version).
/// </summary>
public sealed class TrialResult(JsonObject root)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public JsonObject Root { get; } = root;

    /// <summary>How the trial ended; a <see cref="FormatException"/> for a result whose outcome is none of RESULTS.md's.</summary>
    public Outcome Outcome => Outcomes.Parse((string?)Root["outcome"]);
    public string? Error => (string?)Root["error"];
    public string Id => (string)Root["trial"]!["id"]!;

    /// <summary>The <c>trial</c> section, typed (read once).</summary>
    public TrialHeader Header => _header ??= TrialHeader.Of(Root);
    private TrialHeader? _header;

    /// <summary>A number by dotted path, e.g. "zap.misaligned" or "mmu_lock.by_site.pte_write.acquisitions".</summary>
    public long Long(string path) => Node(path).GetValue<long>();
    public double Double(string path) => Node(path) is JsonValue v && v.TryGetValue(out long l) ? l : Node(path).GetValue<double>();

    private JsonNode Node(string path)
    {
        JsonNode? n = Root;
        foreach (var part in path.Split('.'))
            n = n?[part] ?? throw new KeyNotFoundException($"result has no field '{path}'");
        return n!;
    }

    /// <summary>The JSON text; <paramref name="withRun"/> false drops the non-deterministic part.</summary>
    public string ToJson(bool withRun = true, bool indented = true)
    {
        // Written as it is when nothing is dropped: a worker writes every result, and a copy costs
        // two more passes over it (the same text: ResultJsonTests).
        if (withRun) return Root.ToJsonString(indented ? Indented : Compact);
        var copy = JsonNode.Parse(Root.ToJsonString())!.AsObject();
        if (!withRun) copy.Remove("run");
        return copy.ToJsonString(indented ? Indented : Compact);
    }

    public static TrialResult Parse(string json) =>
        new(JsonNode.Parse(json) as JsonObject ?? throw new FormatException("a trial result must be a JSON object"));

    /// <summary>Every numeric figure by dotted path (vcpus and run excluded), for aggregation.</summary>
    public IEnumerable<(string Path, double Value)> Figures()
    {
        foreach (var (name, node) in Root)
        {
            if (name is "trial" or "vcpus" or "run" || node is not JsonObject section) continue;
            foreach (var f in Walk(name, section)) yield return f;
        }
    }

    private static IEnumerable<(string, double)> Walk(string prefix, JsonObject o)
    {
        foreach (var (k, v) in o)
        {
            string path = prefix + "." + k;
            if (v is JsonObject child) foreach (var f in Walk(path, child)) yield return f;
            else if (v is JsonValue value)
            {
                if (value.TryGetValue(out long l)) yield return (path, l);
                else if (value.TryGetValue(out double d)) yield return (path, d);
            }
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Id} {Outcome.Name()}");
}
