using System.Globalization;
using System.Text.Json.Nodes;
using Farm.Reports.Aggregation;
using Farm.Simulation.Results;
using Xunit;
using Xunit.Abstractions;

namespace Farm.Reports.Tests;

[CollectionDefinition(nameof(ReportMemoryTests), DisableParallelization = true)]
public sealed class ReportMemoryCollection;

/// <summary>
/// A report's memory is a small state per group, not the results (issue 16 item 8): results
/// streamed into a <see cref="ReportAccumulator"/> are folded and dropped.
/// </summary>
[Collection(nameof(ReportMemoryTests))]
public class ReportMemoryTests(ITestOutputHelper output)
{
    /// <summary>
    /// Real results of two configurations, each given again under many seeds (valid results: only
    /// the id and the seed change, and elapsed time, to give the statistics a spread), as a sweep's
    /// store would hand them over, one text at a time.
    /// </summary>
    private static IEnumerable<(TrialResult Result, TrialPlace Place)> Synthetic(int first, int count)
    {
        var templates = new[] { ("kvm-3.1", Sweeps.Small[0]), ("kvm-3.3", Sweeps.Small.First(r => (string)r.Root["trial"]!["policy"]! == "kvm-3.3")) };
        var texts = templates.Select(t => (t.Item1, t.Item2.Root.ToJsonString())).ToArray();
        for (int i = first; i < first + count; i++)
        {
            var (variant, text) = texts[i % 2];
            var root = JsonNode.Parse(text)!.AsObject();
            long seed = i / 2 + 1;
            root["trial"]!["id"] = ((ulong)i * 0x9E3779B97F4A7C15UL).ToString("x16", CultureInfo.InvariantCulture);
            root["trial"]!["seed"] = seed;
            root["trial"]!["config"]!["seed"] = seed.ToString(CultureInfo.InvariantCulture);
            root["time"]!["elapsed_seconds"] = 1.0 + (i % 7) * 0.125;
            yield return (new TrialResult(root), new TrialPlace(variant, []));
        }
    }

    private static long Retained()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    [Fact]
    public void MemoryPerTrial_IsBounded_WhileResultsStream()
    {
        var acc = new ReportAccumulator();
        foreach (var (r, p) in Synthetic(0, 1_000)) acc.Add(r, p);
        long after1k = Retained();
        foreach (var (r, p) in Synthetic(1_000, 8_000)) acc.Add(r, p);
        long after9k = Retained();
        // 8,000 more trials into the same two groups: what they add is the 64-bit key that counts
        // each trial once (a HashSet<ulong> entry: 8 + 4 + 4 bytes, and its buckets' growth); the
        // rows are capped at 100 per group and the statistics are a fixed state per figure. A
        // parsed result is about 34 KB (failure-behaviour.md), so holding them would add ~270 MB.
        double perTrial = (after9k - after1k) / 8_000.0;
        output.WriteLine($"retained: {after1k} bytes after 1,000 trials, {after9k} after 9,000: {perTrial:F1} bytes per trial");
        Assert.True(perTrial < 200, $"{perTrial:F0} bytes retained per trial");
        GC.KeepAlive(acc);

        var data = acc.Finish(BaselineSelector.ByLabel("kvm-3.1"));
        Assert.Equal(9_000, data.Trials.Total);
        Assert.Equal(9_000, data.Positions);
        Assert.Equal(["kvm-3.1", "kvm-3.3"], data.Groups.Select(g => g.Label));
        foreach (var g in data.Groups)
        {
            Assert.Equal(4_500, g.TrialCount);
            Assert.Equal(ReportLimits.TrialRowsPerGroup, g.Trials.Count);
            Assert.Equal(Enumerable.Range(1, ReportLimits.TrialRowsPerGroup).Select(s => (long)s), g.Trials.Select(t => t.Seed));
        }
        // The streamed statistics are the statistics of all 4,500 values: i % 7 over the group's i.
        var values = Enumerable.Range(0, 9_000).Where(i => i % 2 == 0).Select(i => 1.0 + (i % 7) * 0.125).ToList();
        var expected = FigureStats.Of(values);
        var s = data.Groups[0].Stat("time.elapsed_seconds");
        Assert.Equal(4_500, s.N);
        Assert.Equal(values.Average(), s.Mean!.Value, 12);
        Assert.Equal(expected, s);
    }

    [Fact]
    public void RunningStats_AreExact_InAnyOrder_AndZeroSpreadForEqualValues()
    {
        double[] values = [0.1, 1e9, 0.2, 3, -1e-3, 0.3, 7.25];
        var forward = new RunningStats();
        foreach (double v in values) forward.Add(v);
        var backward = new RunningStats();
        foreach (double v in values.Reverse()) backward.Add(v);
        Assert.Equal(forward.ToStats(), backward.ToStats());

        var same = new RunningStats();
        for (int i = 0; i < 5; i++) same.Add(0.1);
        Assert.Equal(0, same.ToStats().Sd);
        Assert.Equal(0.1, same.ToStats().Mean);
    }
}
