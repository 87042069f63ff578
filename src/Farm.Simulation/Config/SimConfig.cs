using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Farm.Simulation.Config;

/// <summary>
/// A fully resolved configuration: schema defaults, then the policy preset, then explicit
/// keys. Workload keys (<c>workload.*</c>) are validated by the workload's own schema.
/// </summary>
public sealed class SimConfig
{
    private readonly SortedDictionary<string, string> _values;

    private SimConfig(SortedDictionary<string, string> values) => _values = values;

    public IReadOnlyDictionary<string, string> Values => _values;

    /// <summary>Resolves explicit key/value pairs (later pairs win) against defaults and the preset.</summary>
    public static SimConfig Resolve(IEnumerable<KeyValuePair<string, string>> explicitValues, IReadOnlyList<ConfigKey>? workloadKeys = null)
    {
        var given = new Dictionary<string, string>();
        var workload = (workloadKeys ?? []).ToDictionary(k => k.Name);
        foreach (var (name, raw) in explicitValues)
        {
            ConfigKey? key = ConfigSchema.TryGet(name, out var k) ? k : workload.GetValueOrDefault(name);
            if (key is null)
                throw new ConfigException(UnknownKeyMessage(name, workload.Keys));
            given[name] = key.Normalize(raw);
            ConfigValidity.Check(key, given[name]);
        }
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var k in ConfigSchema.Keys) values[k.Name] = k.Default;
        foreach (var k in workload.Values) values[k.Name] = k.Default;
        string policy = given.GetValueOrDefault("policy", values["policy"]);
        foreach (var (k, v) in ConfigSchema.Preset(policy)) values[k] = v;
        foreach (var (k, v) in given) values[k] = v;
        return new SimConfig(values);
    }

    private static string UnknownKeyMessage(string name, IEnumerable<string> workloadKeys)
    {
        var all = ConfigSchema.Keys.Select(k => k.Name).Concat(workloadKeys).ToList();
        string prefix = name.Contains('.') ? name[..(name.IndexOf('.') + 1)] : "";
        var near = all.Where(k => prefix.Length > 0 && k.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        return $"unknown key '{name}'; valid keys{(near.Count > 0 ? $" under '{prefix}'" : "")}: {string.Join(", ", near.Count > 0 ? near : all)}";
    }

    public string Text(string key) => _values.TryGetValue(key, out var v) ? v : throw new ConfigException($"unknown key '{key}'");
    public bool Bool(string key) => Text(key) == "true";
    public long Int(string key) => long.Parse(Text(key), CultureInfo.InvariantCulture);
    public double Double(string key) => double.Parse(Text(key), CultureInfo.InvariantCulture);

    /// <summary>Canonical text: sorted key=value lines. The trial id hashes this, the seed and the model version.</summary>
    public string Canonical(bool withoutSeedAndEngine = true) =>
        string.Join('\n', _values.Where(kv => !withoutSeedAndEngine || kv.Key is not ("seed" or "engine")).Select(kv => $"{kv.Key}={kv.Value}"));

    public string TrialId(string workloadName)
    {
        var text = $"{ConfigSchema.ModelVersion}\nworkload={workloadName}\n{Canonical()}\nseed={Int("seed")}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }
}
