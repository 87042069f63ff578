using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Farm.Benchmarks;

/// <summary>
/// A quantity of one benchmark operation divided by the operation's mean time: guest seconds per
/// second, pte_write calls per second. The quantity is computed in the host process (a
/// deterministic trial run once and cached), not in the benchmark's child process.
/// </summary>
public sealed class RateColumn(string name, string legend, Func<BenchmarkCase, double> perOperation) : IColumn
{
    private readonly Dictionary<string, double> _cache = [];

    public string Id => nameof(RateColumn) + "." + name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (meanNs is not > 0) return "-";
        string key = benchmarkCase.DisplayInfo;
        if (!_cache.TryGetValue(key, out double quantity)) _cache[key] = quantity = perOperation(benchmarkCase);
        return (quantity / (meanNs.Value / 1e9)).ToString("N2", CultureInfo.InvariantCulture);
    }

    public override string ToString() => ColumnName;
}
