using System.Globalization;
using System.Text.RegularExpressions;

namespace Farm.Cluster.Tests.Farm;

/// <summary>One sample of Prometheus's text exposition format: <c>name{label="value",...} number</c>.</summary>
internal sealed record PromSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string? this[string label] => Labels.GetValueOrDefault(label);
}

/// <summary>Reads what a <c>/metrics</c> endpoint answers (comments and blank lines skipped).</summary>
internal static partial class PrometheusText
{
    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$""")]
    private static partial Regex Sample();

    [GeneratedRegex("""(?<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(?:[^"\\]|\\.)*)",?""")]
    private static partial Regex Label();

    public static IReadOnlyList<PromSample> Parse(string text)
    {
        var samples = new List<PromSample>();
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var m = Sample().Match(line);
            if (!m.Success) throw new FormatException($"not a Prometheus sample: {line}");
            var labels = Label().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups["key"].Value,
                l => Regex.Unescape(l.Groups["value"].Value));
            samples.Add(new PromSample(m.Groups["name"].Value, labels, double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
        return samples;
    }

    /// <summary>The sum of a metric's samples whose labels include every given pair.</summary>
    public static double Sum(this IEnumerable<PromSample> samples, string name, params (string Label, string Value)[] where) =>
        samples.Where(s => s.Name == name && where.All(w => s[w.Label] == w.Value)).Sum(s => s.Value);
}
