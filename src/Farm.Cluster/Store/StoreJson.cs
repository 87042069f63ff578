using System.Text.Json;
using Farm.Cluster.Protocol;

namespace Farm.Cluster.Store;

/// <summary>Ordered settings as JSON pairs, [["key","value"], …]: the form the store keeps overrides and labels in.</summary>
internal static class StoreJson
{
    public static string Settings(IEnumerable<Setting> settings) =>
        JsonSerializer.Serialize(settings.Select(s => new[] { s.Key, s.Value }));

    public static IReadOnlyList<Setting> Settings(string json) =>
        (JsonSerializer.Deserialize<string[][]>(json) ?? []).Select(p => new Setting(p[0], p[1])).ToList();

    public static string Config(IReadOnlyDictionary<string, string> values) => JsonSerializer.Serialize(values);

    public static Dictionary<string, string> ConfigOf(string json) => JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
}
