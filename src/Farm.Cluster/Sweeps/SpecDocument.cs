using System.Text.Json;
using Farm.Simulation.Config;
using Farm.Workloads.Input;
using YamlDotNet.RepresentationModel;

namespace Farm.Cluster.Sweeps;

/// <summary>
/// Reads a sweep spec, YAML or JSON, into one YAML node tree so that one validator serves both.
/// JSON goes through System.Text.Json rather than the YAML parser: YAML rejects some valid JSON
/// (tabs), and JSON's own errors are clearer. JSON nodes carry no line numbers; errors then name
/// the key path alone. Both are read through the guards of <see cref="InputLimits"/> (size, depth,
/// nodes, aliases) before a tree is built.
/// </summary>
internal static class SpecDocument
{
    public static YamlMappingNode Parse(string text, string source, IReadOnlyList<string> topKeys)
    {
        string shape = $"a sweep spec is one mapping with keys {string.Join(", ", topKeys)}";
        YamlNode? root = LooksLikeJson(text) ? ParseJson(text, source) : ParseYaml(text, source);
        return root switch
        {
            null => throw new ConfigException($"{source}: the sweep spec is empty; {shape}"),
            YamlMappingNode map => map,
            _ => throw new ConfigException($"{source}: {shape}"),
        };
    }

    /// <summary>A JSON object opens with <c>{</c> then a quoted key (or nothing): <c>{name: s}</c> is a YAML flow mapping.</summary>
    private static bool LooksLikeJson(string text)
    {
        var t = text.AsSpan().TrimStart();
        if (t.IsEmpty || t[0] != '{') return false;
        var rest = t[1..].TrimStart();
        return rest.IsEmpty || rest[0] is '"' or '}';
    }

    private static YamlNode? ParseYaml(string text, string source)
    {
        var stream = GuardedYaml.Load(text, source);
        if (stream.Documents.Count > 1) throw new ConfigException($"{source}: one YAML document expected, found {stream.Documents.Count}");
        return stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
    }

    private static YamlNode ParseJson(string text, string source)
    {
        using var doc = GuardedJson.Parse(text, source);
        return FromJson(doc.RootElement, source, ""); // recursion bounded by InputLimits.MaxDepth
    }

    private static YamlNode FromJson(JsonElement e, string source, string path)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var map = new YamlMappingNode();
                foreach (var p in e.EnumerateObject())
                {
                    string child = path.Length == 0 ? p.Name : $"{path}.{p.Name}";
                    if (map.Children.ContainsKey(new YamlScalarNode(p.Name)))
                        throw new ConfigException($"{source}: {child}: duplicate key");
                    map.Add(p.Name, FromJson(p.Value, source, child));
                }
                return map;
            case JsonValueKind.Array:
                return new YamlSequenceNode(e.EnumerateArray().Select(x => FromJson(x, source, path)));
            case JsonValueKind.String:
                return new YamlScalarNode(e.GetString()) { Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted }; // a JSON string is text, never YAML's null
            case JsonValueKind.Null:
                return new YamlScalarNode(null);
            default: // numbers and booleans: their JSON text, as YAML would give it
                return new YamlScalarNode(e.GetRawText());
        }
    }
}
