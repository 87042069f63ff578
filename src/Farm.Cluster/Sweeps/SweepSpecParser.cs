using System.Globalization;
using Farm.Cluster.Protocol;
using Farm.Simulation.Config;
using YamlDotNet.RepresentationModel;

namespace Farm.Cluster.Sweeps;

/// <summary>
/// Validates a sweep spec's tree. Every error names the source, the line (YAML), the key path and
/// what is valid. Keys are checked where they are written, against the schema of every workload
/// of the sweep, before any trial is expanded.
/// </summary>
internal sealed partial class SweepSpecParser(string source, string? baseDir, IReadOnlyDictionary<string, string>? workloadTexts, int maxTrials)
{
    // seed comes from 'seeds' and base.seed; engine is left out of trial ids (results are
    // identical on both engines), so an axis over it would expand to duplicates.
    private static readonly Dictionary<string, string> NotAnAxis = new()
    {
        ["seed"] = "seeds are set by 'seeds' (a count) and 'base.seed' (the first seed)",
        ["engine"] = "the engine does not change a trial's result or id; set it in 'base'",
    };

    private readonly List<SweepWorkload> _workloads = [];

    public SweepSpec Parse(string text)
    {
        var root = SpecDocument.Parse(text, source, SweepSpec.TopKeys);
        var nodes = new Dictionary<string, (YamlNode Key, YamlNode Value)>();
        foreach (var (k, v) in root.Children)
        {
            string key = Scalar(k, "", "a top-level key");
            if (!SweepSpec.TopKeys.Contains(key))
                throw Error(k, key, $"unknown key; valid: {string.Join(", ", SweepSpec.TopKeys)}");
            nodes[key] = (k, v);
        }

        string name = ParseName(nodes.GetValueOrDefault("name"));
        ParseWorkloads(nodes.GetValueOrDefault("workload"), nodes.GetValueOrDefault("workloads"), root);
        int seeds = ParseSeeds(nodes.GetValueOrDefault("seeds").Value);
        var (baseSettings, baseSeed) = ParseBase(nodes.GetValueOrDefault("base").Value);
        // Trials use seeds base.seed .. base.seed + seeds - 1: the last must still be a valid seed (no wrap).
        if (baseSeed > long.MaxValue - (seeds - 1))
            throw Error(nodes["base"].Value, "base.seed", $"{baseSeed} with {seeds} seeds goes past the largest seed; valid: 0..{long.MaxValue - (seeds - 1)}");
        var variants = ParseVariants(nodes.GetValueOrDefault("variants").Value);
        // The trial count from the lists' lengths alone, before any value is checked: a hostile
        // axis of a million values is refused at once rather than normalised value by value.
        CheckCount(root, variants, RawAxes(nodes.GetValueOrDefault("axes").Value), seeds, sensitivity: null);
        var axes = ParseAxes(nodes.GetValueOrDefault("axes").Value, variants);
        string baseline = ParseBaseline(nodes.GetValueOrDefault("baseline").Value, variants, axes);
        var sensitivity = ParseSensitivity(nodes.GetValueOrDefault("sensitivity").Value, variants, axes, seeds);
        CheckCount(root, variants, axes, seeds, sensitivity);
        return new SweepSpec(name, text, _workloads, baseSettings, baseSeed, variants, axes, seeds, baseline, source, sensitivity);
    }

    private string ParseName((YamlNode Key, YamlNode Value) node)
    {
        if (node.Value is null) throw new ConfigException($"{source}: missing 'name' (a sweep's name, shown in listings)");
        string name = Scalar(node.Value, "name", "the sweep's name").Trim();
        if (name.Length is 0 or > 200 || name.Any(char.IsControl))
            throw Error(node.Value, "name", "must be 1 to 200 printable characters on one line");
        return name;
    }

    private int ParseSeeds(YamlNode? node)
    {
        if (node is null) return 1;
        string raw = Scalar(node, "seeds", "a count");
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < 1)
            throw Error(node, "seeds", $"'{raw}' is not valid; valid: a whole number of seeds, 1 or more");
        return n;
    }

    private (List<Setting>, long) ParseBase(YamlNode? node)
    {
        var settings = new List<Setting>();
        long seed = 1;
        if (node is null) return (settings, seed);
        foreach (var (k, v) in Map(node, "base", "key: value pairs (the --set namespace)").Children)
        {
            string key = Scalar(k, "base", "a configuration key");
            string path = $"base.{key}";
            string value = Normalize(v, path, key, Scalar(v, path, "a single value (lists go under 'axes')"));
            if (key == "seed") seed = long.Parse(value, CultureInfo.InvariantCulture);
            else settings.Add(new Setting(key, value));
        }
        return (settings, seed);
    }

    private List<SweepVariant> ParseVariants(YamlNode? node)
    {
        var variants = new List<SweepVariant>();
        if (node is null) return variants;
        const string shape = "a mapping of variant name to its keys, e.g. fix1: {policy: kvm-3.1, mmu.topup_on_pte_write: true}";
        var map = Map(node, "variants", shape);
        if (map.Children.Count == 0) throw Error(node, "variants", $"empty; give at least one variant ({shape})");
        foreach (var (k, v) in map.Children)
        {
            string name = Scalar(k, "variants", "a variant name").Trim();
            if (name.Length == 0) throw Error(k, "variants", "a variant needs a name");
            if (name.Any(char.IsControl)) // shown in reports and on terminals, like the sweep's name
                throw Error(k, "variants", "a variant name holds a control character (a line break, an escape); valid: printable characters on one line");
            var settings = new List<Setting>();
            // "name:" with nothing after it is a variant with no keys of its own (the base as is).
            if (v is not YamlScalarNode { Value: null or "" })
                foreach (var (vk, vv) in Map(v, $"variants.{name}", "key: value pairs").Children)
                {
                    string key = Scalar(vk, $"variants.{name}", "a configuration key");
                    string path = $"variants.{name}.{key}";
                    if (NotAnAxis.TryGetValue(key, out var why)) throw Error(vk, path, why);
                    settings.Add(new Setting(key, Normalize(vv, path, key, Scalar(vv, path, "a single value"))));
                }
            variants.Add(new SweepVariant(name, settings));
        }
        return variants;
    }

    private List<SweepAxis> ParseAxes(YamlNode? node, List<SweepVariant> variants)
    {
        var axes = new List<SweepAxis>();
        if (node is null) return axes;
        var map = Map(node, "axes", "a mapping of key to a list of values, e.g. vm.vcpus: [1, 2, 4]");
        if (map.Children.Count == 0) throw Error(node, "axes", "empty; give at least one axis (key: [values]) or leave 'axes' out");
        foreach (var (k, v) in map.Children)
        {
            string key = Scalar(k, "axes", "a configuration key");
            string path = $"axes.{key}";
            if (NotAnAxis.TryGetValue(key, out var why)) throw Error(k, path, why);
            CheckKey(k, path, key);
            var owner = variants.FirstOrDefault(x => x.Settings.Any(s => s.Key == key));
            if (owner is not null)
                throw Error(k, path, $"also set by variant '{owner.Name}'; a key is either an axis or set by variants");
            if (v is not YamlSequenceNode list) throw Error(v, path, "must be a list of values, e.g. [1, 2, 4]");
            if (list.Children.Count == 0) throw Error(v, path, "empty list; give at least one value");
            var values = new List<string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < list.Children.Count; i++)
            {
                string at = $"{path}[{i}]";
                string value = Normalize(list[i], at, key, Scalar(list[i], at, "a single value"));
                if (!seen.Add(value)) throw Error(list[i], at, $"'{value}' is listed twice");
                values.Add(value);
            }
            axes.Add(new SweepAxis(key, values));
        }
        return axes;
    }

    private static readonly string[] Policies = ConfigSchema.TryGet("policy", out var k) ? k.Choices! : [];

    private string ParseBaseline(YamlNode? node, List<SweepVariant> variants, List<SweepAxis> axes)
    {
        if (node is null) return SweepSpec.DefaultBaseline;
        string baseline = Scalar(node, "baseline", "a variant name, an axis value or a policy").Trim();
        var valid = variants.Select(v => v.Name).Concat(axes.SelectMany(a => a.Values)).Concat(Policies).Distinct().ToList();
        if (!valid.Contains(baseline))
            throw Error(node, "baseline", $"'{baseline}' is neither a variant, an axis value nor a policy of this sweep; valid: {string.Join(", ", valid)}");
        return baseline;
    }

    /// <summary>Each axis with as many placeholder values as its list has items (its shape is checked by <see cref="ParseAxes"/>).</summary>
    private static List<SweepAxis> RawAxes(YamlNode? node) =>
        node is YamlMappingNode map
            ? map.Children.Select(kv => new SweepAxis((kv.Key as YamlScalarNode)?.Value ?? "?",
                new string[kv.Value is YamlSequenceNode list ? Math.Max(1, list.Children.Count) : 1])).ToList()
            : [];

    private void CheckCount(YamlNode root, List<SweepVariant> variants, List<SweepAxis> axes, int seeds, SweepSensitivity? sensitivity)
    {
        // Counted before expanding, saturating: a hostile spec must not make us build a billion trials.
        var factors = new List<(long N, string What)> { (_workloads.Count, "workloads") };
        if (variants.Count > 0) factors.Add((variants.Count, "variants"));
        factors.AddRange(axes.Select(a => ((long)a.Values.Count, $"{a.Key} values")));
        factors.Add((seeds, "seeds"));
        long total = 1;
        foreach (var (n, _) in factors) total = total > long.MaxValue / n ? long.MaxValue : total * n;
        (long N, string What)? extra = sensitivity is null ? null : SensitivityFactor(sensitivity, axes);
        if (extra is { } e) total = total > long.MaxValue - e.N ? long.MaxValue : total + e.N;
        if (total > maxTrials)
        {
            string product = string.Join(" × ", factors.Select(f => $"{f.N} {f.What}")) + (extra is { } x ? $" + {x.N} {x.What}" : "");
            throw Error(root, "trials", $"the sweep expands to {(total == long.MaxValue ? "too many" : total.ToString(CultureInfo.InvariantCulture))} trials ({product}); the limit is {maxTrials}");
        }
    }
}
