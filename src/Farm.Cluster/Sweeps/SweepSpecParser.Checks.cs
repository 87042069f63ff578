using System.Globalization;
using Farm.Simulation.Config;
using Farm.Simulation.Workloads;
using YamlDotNet.RepresentationModel;

namespace Farm.Cluster.Sweeps;

/// <summary>Key and value checks against the workloads' schemas, and errors that name the place.</summary>
internal sealed partial class SweepSpecParser
{
    /// <summary>Fails at the key itself when no workload of the sweep knows it (before any value is looked at).</summary>
    private void CheckKey(YamlNode at, string path, string key)
    {
        foreach (var w in _workloads)
        {
            var workloadKeys = WorkloadRegistry.Get(w.File.Kind).Keys;
            if (ConfigSchema.TryGet(key, out _) || workloadKeys.Any(k => k.Name == key)) continue;
            try
            {
                SimConfig.Resolve([KeyValuePair.Create(key, "")], workloadKeys); // throws SimConfig's own "unknown key" message
            }
            catch (ConfigException e)
            {
                throw Error(at, path, e.Message + (_workloads.Count > 1 ? $" (for workload '{w.Name}')" : ""));
            }
        }
    }

    /// <summary>Checks a key and value against the schema of every workload; returns the value normalised.</summary>
    private string Normalize(YamlNode at, string path, string key, string value, IReadOnlyList<SweepWorkload>? only = null)
    {
        string? normalized = null;
        var workloads = only ?? _workloads;
        foreach (var w in workloads)
        {
            try
            {
                var config = SimConfig.Resolve([KeyValuePair.Create(key, value)], WorkloadRegistry.Get(w.File.Kind).Keys);
                normalized ??= config.Values[key];
            }
            catch (ConfigException e)
            {
                throw Error(at, path, e.Message + (workloads.Count > 1 ? $" (for workload '{w.Name}')" : ""));
            }
        }
        return normalized!;
    }

    /// <summary>A scalar's text; YAML null (<c>~</c>, <c>null</c>, nothing) is "", so <c>name: ~</c> is an empty name, not "~".</summary>
    private string Scalar(YamlNode node, string path, string what) => node is YamlScalarNode s
        ? (Farm.Workloads.Input.YamlNull.Is(s) ? "" : s.Value ?? "")
        : throw Error(node, path.Length == 0 ? "spec" : path, $"must be {what}, not a {(node is YamlMappingNode ? "mapping" : "list")}");

    private YamlMappingNode Map(YamlNode node, string path, string what) => node as YamlMappingNode
        ?? throw Error(node, path, $"must be {what}");

    private ConfigException Error(YamlNode at, string path, string message) =>
        new($"{source}{(at.Start.Line > 0 ? ":" + at.Start.Line.ToString(CultureInfo.InvariantCulture) : "")}: {path}: {message}");
}
