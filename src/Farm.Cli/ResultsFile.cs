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
        item.WriteTo(_json, reindent: true);
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
