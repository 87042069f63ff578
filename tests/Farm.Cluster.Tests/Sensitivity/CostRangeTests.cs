using System.Globalization;
using Farm.Simulation.Config;
using Xunit;

namespace Farm.Cluster.Tests.Sensitivity;

/// <summary>
/// Every cost key has a plausible range in the schema, its default lies inside it, and
/// docs/costs.md's summary table says the same default and range (the doc is the source).
/// </summary>
public class CostRangeTests
{
    private static readonly IReadOnlyList<ConfigKey> CostKeys = ConfigSchema.Keys.Where(k => k.Name.StartsWith("cost.", StringComparison.Ordinal)).ToList();

    [Fact]
    public void EveryCostKey_HasAPlausibleRange_ThatHoldsItsDefault()
    {
        Assert.True(CostKeys.Count >= 20, $"only {CostKeys.Count} cost keys");
        foreach (var k in CostKeys)
        {
            Assert.True(k.Plausible is not null, $"{k.Name} has no plausible range (ConfigSchema: Plausible: new(low, high)); add it with its basis in docs/costs.md");
            var r = k.Plausible!;
            Assert.True(r.Low < r.High, $"{k.Name}: plausible range {r} is empty");
            double d = double.Parse(k.Default, CultureInfo.InvariantCulture);
            Assert.True(r.Contains(d), $"{k.Name}: default {k.Default} lies outside its plausible range {r}");
            // A range is also a set of valid values: a sensitivity sweep sets the key to both ends.
            k.Normalize(r.Low.ToString("R", CultureInfo.InvariantCulture));
            k.Normalize(r.High.ToString("R", CultureInfo.InvariantCulture));
            if (k.Type == ConfigType.Int) Assert.True(r.Low == Math.Round(r.Low) && r.High == Math.Round(r.High), $"{k.Name}: an integer key needs integer ends, not {r}");
        }
        Assert.DoesNotContain(ConfigSchema.Keys, k => k.Plausible is not null && !k.Name.StartsWith("cost.", StringComparison.Ordinal));
    }

    [Fact]
    public void CostsMd_AndTheSchema_AgreeOnEveryDefaultAndRange()
    {
        var rows = CostsMdRows();
        foreach (var k in CostKeys)
        {
            Assert.True(rows.ContainsKey(k.Name), $"docs/costs.md's summary table has no row for {k.Name}");
            var (def, low, high) = rows[k.Name];
            Assert.True(def == double.Parse(k.Default, CultureInfo.InvariantCulture), $"{k.Name}: docs/costs.md says default {def}, the schema {k.Default}");
            Assert.True(low == k.Plausible!.Low && high == k.Plausible.High, $"{k.Name}: docs/costs.md says range {low}–{high}, the schema {k.Plausible}");
        }
        foreach (string name in rows.Keys)
            Assert.True(ConfigSchema.TryGet(name, out _), $"docs/costs.md has a row for {name}, which is not a configuration key");
    }

    /// <summary>The summary table: | `cost.x` | before | recommended (default) | plausible range | basis |; numbers may carry commas and bold.</summary>
    private static Dictionary<string, (double Default, double Low, double High)> CostsMdRows()
    {
        var rows = new Dictionary<string, (double, double, double)>();
        string[] header = [];
        foreach (string line in File.ReadLines(Path.Combine(RepoPaths.Root, "docs", "costs.md")))
        {
            if (!line.StartsWith('|')) { header = []; continue; }
            var cells = line.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (cells[0] == "key") { header = cells; continue; }
            if (header.Length == 0 || !cells[0].StartsWith("`cost.", StringComparison.Ordinal)) continue;
            int def = Array.IndexOf(header, "recommended (default)"), range = Array.IndexOf(header, "plausible range");
            Assert.True(def > 0 && range > 0, "docs/costs.md: the summary table needs the columns 'recommended (default)' and 'plausible range'");
            string name = cells[0].Trim('`');
            Assert.True(cells.Length == header.Length, $"docs/costs.md: the row of {name} has {cells.Length} cells, the header {header.Length}");
            var ends = cells[range].Split('–');
            Assert.True(ends.Length == 2, $"docs/costs.md: {name}: plausible range '{cells[range]}' is not LOW–HIGH");
            rows[name] = (Number(cells[def]), Number(ends[0]), Number(ends[1]));
        }
        Assert.True(rows.Count > 0, "docs/costs.md: no summary table rows found");
        return rows;
    }

    private static double Number(string text) => double.Parse(text.Replace("*", "").Replace(",", "").Trim(), CultureInfo.InvariantCulture);
}
