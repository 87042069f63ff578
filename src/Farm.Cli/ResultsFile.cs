using System.Text.Json;
using System.Text.Json.Nodes;
using Farm.Cluster.Protocol;

namespace Farm.Cli;

/// <summary>
/// <c>results.json</c> of <c>farm sweep</c>: one JSON array of every position (position, trial,
/// labels, status, result or error), written item by item as the results are read, so the
/// results are never all held.
/// </summary>
public sealed class ResultsFile : IDisposable
{
    private readonly FileStream _file;
    private readonly Utf8JsonWriter _json;

    public ResultsFile(string path)
    {
        _file = File.Create(path);
        _json = new Utf8JsonWriter(_file, new JsonWriterOptions { Indented = true });
        _json.WriteStartArray();
    }

    public void Write(SweepResultItem item)
    {
        _json.WriteStartObject();
        _json.WriteNumber("position", item.Position);
        _json.WriteString("trial", item.Trial.Value);
        _json.WriteStartObject("labels");
        foreach (var l in item.Labels) _json.WriteString(l.Key, l.Value);
        _json.WriteEndObject();
        _json.WriteString("status", item.Status);
        if (item.ResultJson is not null)
        {
            _json.WritePropertyName("result");
            JsonNode.Parse(item.ResultJson)!.WriteTo(_json); // re-indented like the rest of the file
        }
        if (item.Error is not null) _json.WriteString("error", item.Error);
        _json.WriteEndObject();
        _json.Flush();
    }

    public void Dispose()
    {
        _json.WriteEndArray();
        _json.Flush();
        _json.Dispose();
        _file.Dispose();
    }
}
