using System.Globalization;
using Farm.Simulation.Config;
using YamlDotNet.RepresentationModel;

namespace Farm.Cluster.Sweeps;

/// <summary>The <c>sensitivity:</c> block: cost keys with plausible ranges, one at a time and Monte Carlo draws (docs/sweeps.md).</summary>
internal sealed partial class SweepSpecParser
{
    private static readonly string[] SensitivityKeys = ["keys", "one_at_a_time", "draws", "workloads", "variants", "seeds", "design_seed"];
    private const int MaxDraws = 1000;

    private SweepSensitivity? ParseSensitivity(YamlNode? node, List<SweepVariant> variants, List<SweepAxis> axes, int sweepSeeds)
    {
        if (node is null) return null;
        var map = Map(node, "sensitivity", $"a mapping with keys {string.Join(", ", SensitivityKeys)}");
        var nodes = new Dictionary<string, YamlNode>();
        foreach (var (k, v) in map.Children)
        {
            string key = Scalar(k, "sensitivity", "a key");
            if (!SensitivityKeys.Contains(key)) throw Error(k, $"sensitivity.{key}", $"unknown key; valid: {string.Join(", ", SensitivityKeys)}");
            nodes[key] = v;
        }
        if (!nodes.TryGetValue("keys", out var keysNode)) throw Error(node, "sensitivity.keys", "missing; give a list of cost keys, or cost.* for every one");
        var keys = SensitivityKeyList(keysNode, variants, axes);
        bool oneAtATime = !nodes.TryGetValue("one_at_a_time", out var oat) || Bool(oat, "sensitivity.one_at_a_time");
        int draws = nodes.TryGetValue("draws", out var d) ? Count(d, "sensitivity.draws", 0, MaxDraws) : SweepSensitivity.DefaultDraws;
        if (!oneAtATime && draws == 0) throw Error(node, "sensitivity", "nothing to run: one_at_a_time is false and draws is 0");
        int seeds = nodes.TryGetValue("seeds", out var s) ? Count(s, "sensitivity.seeds", 1, sweepSeeds) : 1;
        long designSeed = nodes.TryGetValue("design_seed", out var ds) ? Count(ds, "sensitivity.design_seed", 0, int.MaxValue) : 1;
        var workloads = NameList(nodes.GetValueOrDefault("workloads"), "sensitivity.workloads", _workloads.Select(w => w.Name).ToList(), "workload");
        var variantNames = variants.Select(v => v.Name).ToList();
        if (nodes.TryGetValue("variants", out var vn) && variantNames.Count == 0)
            throw Error(vn, "sensitivity.variants", "the sweep has no variants to choose from");
        var chosen = NameList(vn, "sensitivity.variants", variantNames, "variant");
        return new SweepSensitivity(keys, oneAtATime, draws, workloads, chosen, seeds, designSeed);
    }

    /// <summary><c>cost.*</c>, or a list of keys and <c>cost.*</c>: each must have a plausible range and be neither an axis nor set by a variant.</summary>
    private List<SensitivityKey> SensitivityKeyList(YamlNode node, List<SweepVariant> variants, List<SweepAxis> axes)
    {
        var withRange = ConfigSchema.Keys.Where(k => k.Plausible is not null).ToList();
        string valid = $"keys with a plausible range: {string.Join(", ", withRange.Select(k => k.Name))}, or cost.* for all of them";
        var items = node is YamlSequenceNode list ? list.Children.ToList() : [node];
        if (items.Count == 0) throw Error(node, "sensitivity.keys", $"empty list; {valid}");
        var keys = new List<SensitivityKey>();
        for (int i = 0; i < items.Count; i++)
        {
            string path = node is YamlSequenceNode ? $"sensitivity.keys[{i}]" : "sensitivity.keys";
            string name = Scalar(items[i], path, "a key").Trim();
            IEnumerable<ConfigKey> matched;
            if (name.EndsWith(".*", StringComparison.Ordinal))
                matched = withRange.Where(k => k.Name.StartsWith(name[..^1], StringComparison.Ordinal)).ToList() is { Count: > 0 } m
                    ? m : throw Error(items[i], path, $"'{name}' matches no key with a plausible range; {valid}");
            else if (!ConfigSchema.TryGet(name, out var key)) throw Error(items[i], path, $"unknown key '{name}'; {valid}");
            else if (key.Plausible is null) throw Error(items[i], path, $"'{name}' has no plausible range to vary over; {valid}");
            else matched = [key];
            foreach (var k in matched)
            {
                if (keys.Any(x => x.Key == k.Name)) throw Error(items[i], path, $"'{k.Name}' is listed twice");
                if (axes.Any(a => a.Key == k.Name)) throw Error(items[i], path, $"'{k.Name}' is also an axis; a key is either swept on an axis or varied by the sensitivity");
                if (variants.FirstOrDefault(v => v.Settings.Any(x => x.Key == k.Name)) is { } owner)
                    throw Error(items[i], path, $"'{k.Name}' is set by variant '{owner.Name}'; a sensitivity key may be set in base or a workload's set, not by a variant");
                keys.Add(new SensitivityKey(k.Name, k.Plausible!, k.Type));
            }
        }
        return keys;
    }

    private List<string> NameList(YamlNode? node, string path, List<string> all, string what)
    {
        if (node is null) return all;
        if (node is not YamlSequenceNode list || list.Children.Count == 0)
            throw Error(node, path, $"must be a non-empty list of {what} names; valid: {string.Join(", ", all)}");
        var names = new List<string>();
        for (int i = 0; i < list.Children.Count; i++)
        {
            string name = Scalar(list[i], $"{path}[{i}]", $"a {what} name").Trim();
            if (!all.Contains(name)) throw Error(list[i], $"{path}[{i}]", $"'{name}' is not a {what} of this sweep; valid: {string.Join(", ", all)}");
            if (names.Contains(name)) throw Error(list[i], $"{path}[{i}]", $"'{name}' is listed twice");
            names.Add(name);
        }
        return all.Where(names.Contains).ToList(); // sweep order
    }

    private bool Bool(YamlNode node, string path)
    {
        string raw = Scalar(node, path, "true or false");
        return raw.Trim().ToLowerInvariant() switch
        {
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" => false,
            _ => throw Error(node, path, $"'{raw}' is not valid; valid: true, false"),
        };
    }

    private int Count(YamlNode node, string path, int min, int max)
    {
        string raw = Scalar(node, path, "a whole number");
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw Error(node, path, $"'{raw}' is not valid; valid: a whole number {min}..{max}");
        return n;
    }

    /// <summary>The sensitivity's trials: its workloads × variants × grid points × (2 per key + draws) × its seeds.</summary>
    private static (long N, string What) SensitivityFactor(SweepSensitivity s, List<SweepAxis> axes)
    {
        long n = (long)s.Workloads.Count * Math.Max(1, s.Variants.Count) * s.TrialsPerPoint;
        foreach (var a in axes) n = n > long.MaxValue / a.Values.Count ? long.MaxValue : n * a.Values.Count;
        return (n, $"sensitivity trials ({s.Workloads.Count} workloads × {Math.Max(1, s.Variants.Count)} variants × " +
                   $"{(s.OneAtATime ? $"2 × {s.Keys.Count} keys + " : "")}{s.Draws} draws × {s.Seeds} seeds{(axes.Count > 0 ? " × grid points" : "")})");
    }
}
