using Farm.Cluster.Protocol;
using Farm.Simulation.Config;
using Farm.Workloads;
using Farm.Workloads.Input;
using YamlDotNet.RepresentationModel;

namespace Farm.Cluster.Sweeps;

/// <summary>The workloads of a sweep: files on disk or shipped texts, each parsed as a worker will parse it.</summary>
internal sealed partial class SweepSpecParser
{
    private void ParseWorkloads((YamlNode Key, YamlNode Value) one, (YamlNode Key, YamlNode Value) many, YamlNode root)
    {
        if (one.Value is not null && many.Value is not null)
            throw Error(many.Key, "workloads", "give either 'workload' (one path) or 'workloads' (a list of paths), not both");
        if (one.Value is not null)
        {
            _workloads.Add(ParseWorkload(one.Value, "workload"));
            return;
        }
        if (many.Value is null)
            throw Error(root, "workload", "missing; give 'workload' (a workload file path) or 'workloads' (a list of paths)");
        if (many.Value is not YamlSequenceNode list) throw Error(many.Value, "workloads", $"must be a list; each item {WorkloadShape}");
        if (list.Children.Count == 0) throw Error(list, "workloads", "empty list; give at least one workload file path");
        for (int i = 0; i < list.Children.Count; i++)
        {
            string path = $"workloads[{i}]";
            var w = ParseWorkload(list[i], path);
            if (_workloads.Any(x => x.Name == w.Name))
                throw Error(list[i], path, $"a second workload named '{w.Name}'; each workload of a sweep needs its own name (sweep other values with an axis)");
            _workloads.Add(w);
        }
    }

    private const string WorkloadShape = "a workload file path, or {file: PATH, set: {key: value, ...}}";

    /// <summary>A path, or a mapping with the path under <c>file</c> and keys for this workload alone under <c>set</c>.</summary>
    private SweepWorkload ParseWorkload(YamlNode node, string path)
    {
        if (node is YamlScalarNode) return LoadWorkload(node, path, Scalar(node, path, WorkloadShape), []);
        if (node is not YamlMappingNode map) throw Error(node, path, $"must be {WorkloadShape}");
        YamlNode? file = null, set = null;
        foreach (var (k, v) in map.Children)
        {
            switch (Scalar(k, path, "a key"))
            {
                case "file": file = v; break;
                case "set": set = v; break;
                case var other: throw Error(k, $"{path}.{other}", "unknown key; valid: file, set");
            }
        }
        if (file is null) throw Error(node, $"{path}.file", $"missing; {WorkloadShape}");
        var workload = LoadWorkload(file, $"{path}.file", Scalar(file, $"{path}.file", "a workload file path"), []);
        if (set is null) return workload;
        var settings = new List<Setting>();
        foreach (var (k, v) in Map(set, $"{path}.set", "key: value pairs for this workload").Children)
        {
            string key = Scalar(k, $"{path}.set", "a configuration key");
            string at = $"{path}.set.{key}";
            if (NotAnAxis.TryGetValue(key, out var why)) throw Error(k, at, why);
            settings.Add(new Setting(key, Normalize(v, at, key, Scalar(v, at, "a single value"), [workload])));
        }
        return workload with { Settings = settings };
    }

    private SweepWorkload LoadWorkload(YamlNode at, string path, string file, IReadOnlyList<Setting> settings)
    {
        if (string.IsNullOrWhiteSpace(file)) throw Error(at, path, "empty; give a workload file path");
        string? text = null;
        if (workloadTexts is not null && workloadTexts.TryGetValue(file, out var shipped))
            text = shipped ?? throw Error(at, path, $"the submission's text for '{file}' is null; give the workload file's text");
        // No directory: a remote submission. The server never opens a path a client named, and
        // the answer is the same whether or not such a file exists on the server.
        else if (baseDir is null)
            throw Error(at, path, $"'{file}' is not among the workload texts the submission carries; a submission over the API "
                + "carries the text of every workload file it names, keyed by the path as written in the spec (farm submit sends them)");
        try
        {
            if (text is null)
            {
                string full = Path.GetFullPath(Path.IsPathRooted(file) ? file : Path.Combine(baseDir!, file));
                if (!File.Exists(full) && !Directory.Exists(full)) throw new ConfigException($"workload file '{file}' does not exist (looked for {full})");
                text = InputFile.ReadText(full, "workload file");
            }
            // Parsed under the path as written, as a worker will from a ticket: the same
            // default name (the file name) on every node.
            return new SweepWorkload(file, text, WorkloadFile.Parse(text, file), settings);
        }
        catch (ConfigException e)
        {
            throw Error(at, path, e.Message);
        }
    }
}
