using System.Text.Json;
using System.Text.Json.Nodes;
using MessagePack;

namespace Farm.Cluster.Protocol;

/// <summary>
/// One position of a sweep and its trial: the labels (workload, variant, axis values, seed), the
/// trial's status, and its result JSON (RESULTS.md) when done or its error when failed.
/// </summary>
[MessagePackObject]
public sealed record SweepResultItem(
    [property: Key(0)] int Position,
    [property: Key(1)] TrialId Trial,
    [property: Key(2)] IReadOnlyList<Setting> Labels,
    [property: Key(3)] string Status,
    [property: Key(4)] string? ResultJson,
    [property: Key(5)] string? Error)
{
    [IgnoreMember]
    public string Description => string.Join(' ', Labels);

    /// <summary>
    /// The item as one element of a sweep's results array (the shape of <c>farm sweep</c>'s
    /// results.json and of <c>GET /api/sweeps/{id}/results</c>). <paramref name="reindent"/>: parse the
    /// result so the writer's indentation applies to it too, else copy it as stored (validated then).
    /// </summary>
    public void WriteTo(Utf8JsonWriter json, bool reindent)
    {
        json.WriteStartObject();
        json.WriteNumber("position", Position);
        json.WriteString("trial", Trial.Value);
        json.WriteStartObject("labels");
        foreach (var l in Labels) json.WriteString(l.Key, l.Value);
        json.WriteEndObject();
        json.WriteString("status", Status);
        if (ResultJson is not null)
        {
            json.WritePropertyName("result");
            if (reindent) JsonNode.Parse(ResultJson)!.WriteTo(json);
            else json.WriteRawValue(ResultJson, skipInputValidation: true);
        }
        if (Error is not null) json.WriteString("error", Error);
        json.WriteEndObject();
    }
}
