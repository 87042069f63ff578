using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace Farm.Cli.Tests;

/// <summary>
/// <c>farm sweep</c> end to end, reading the report it writes: the sweep's own words (variant
/// names, baseline) reach the report, a trial two variants resolve to runs once and shows once
/// under each, and the header counts what ran (issue 14 item 1).
/// </summary>
public class SweepReportLabelTests
{
    [Fact]
    public void AVariantAsBaseline_AVariantEqualToAnother_AndTheCountsOfWhatRan()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"farm-cli-labels-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string micro = Path.Combine(FarmProcess.Root, "workloads", "micro");
            string spec = Path.Combine(dir, "labels.yaml");
            // prefetch-drain's file selects the write-count flood detector, so on it fix4-flood
            // resolves to the kvm-3.1 trial itself; on wrprotect it is a trial of its own.
            File.WriteAllText(spec, $"""
                name: labels
                workloads: [{Path.Combine(micro, "prefetch-drain.yaml")}, {Path.Combine(micro, "wrprotect.yaml")}]
                variants:
                  kvm-3.1:    {"{"} policy: kvm-3.1 {"}"}
                  fix2-retry: {"{"} policy: kvm-3.1, mmu.retry_non_pt_writes: true {"}"}
                  fix4-flood: {"{"} policy: kvm-3.1, mmu.flood_detector: write-count {"}"}
                seeds: 2
                baseline: fix2-retry
                """);
            // 2 workloads × 3 variants × 2 seeds = 12 positions; on prefetch-drain fix4-flood's 2
            // positions hold kvm-3.1's trials, so 12 − 2 = 10 distinct trials run.
            var (code, _, err) = FarmProcess.Run("sweep", spec, "-o", Path.Combine(dir, "out"));
            Assert.True(code == 0, err); // a host-bug trial ran and stored its result: it is not a failed run
            Assert.Contains("10 trials, 10 to run, 0 already stored", err);

            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "out", "report.json")));
            var root = json.RootElement;
            var trials = root.GetProperty("trials");
            Assert.Equal(10, trials.GetProperty("total").GetInt32());
            Assert.Equal(12, trials.GetProperty("positions").GetInt32());
            int failed = trials.GetProperty("host_bug").GetInt32() + trials.GetProperty("error").GetInt32();
            Assert.True(failed >= 2, "kvm-3.1 on prefetch-drain ends as host-bug on both seeds");
            Assert.Equal(10, trials.GetProperty("completed").GetInt32() + failed);

            var groups = root.GetProperty("groups").EnumerateArray().ToList();
            // Groups are the spec's variants, titled by their names, in the spec's order, 2 trials each.
            foreach (string workload in new[] { "prefetch-drain", "wrprotect" })
            {
                var mine = groups.Where(g => g.GetProperty("workload").GetString() == workload).ToList();
                Assert.Equal(["kvm-3.1", "fix2-retry", "fix4-flood"], mine.Select(g => g.GetProperty("label").GetString()));
                Assert.All(mine, g => Assert.Equal(2, g.GetProperty("trials").GetArrayLength()));
                // The baseline is the variant the spec names.
                string fix2 = mine[1].GetProperty("id").GetString()!;
                Assert.All(mine, g => Assert.Equal(fix2, g.GetProperty("baseline").GetString()));
            }
            // The shared trials: the same ids under kvm-3.1 and fix4-flood of prefetch-drain, once each.
            var drain = groups.Where(g => g.GetProperty("workload").GetString() == "prefetch-drain").ToList();
            string[] Ids(JsonElement g) => g.GetProperty("trials").EnumerateArray().Select(t => t.GetProperty("id").GetString()!).ToArray();
            Assert.Equal(Ids(drain[0]), Ids(drain[2]));
            Assert.Equal(2, Ids(drain[0]).Distinct().Count());

            // Failed trials: each once, with both groups a shared one belongs to.
            var failures = root.GetProperty("failures").EnumerateArray().ToList();
            Assert.Equal(failed, failures.Count);
            Assert.Equal(failures.Count, failures.Select(f => f.GetProperty("trial_id").GetString()).Distinct().Count());
            foreach (string id in Ids(drain[0]))
            {
                var f = failures.Single(x => x.GetProperty("trial_id").GetString() == id);
                Assert.Equal([drain[0].GetProperty("id").GetString(), drain[2].GetProperty("id").GetString()],
                    f.GetProperty("groups").EnumerateArray().Select(x => x.GetString()));
            }

            string html = File.ReadAllText(Path.Combine(dir, "out", "report.html"));
            string md = File.ReadAllText(Path.Combine(dir, "out", "report.md"));
            foreach (string text in new[] { html, md })
            {
                Assert.DoesNotContain("is the baseline", text); // "No group of this workload is the baseline"
                Assert.DoesNotContain("+ mmu.", text);          // no label guessed from settings
                Assert.Contains("10 trial(s) at 12 positions", text);
                Assert.Contains($"✗ {failed} of 10 trials did not complete", text);
                foreach (string id in Ids(drain[0]))
                    Assert.Single(Regex.Matches(Failures(text), Regex.Escape(id)));
            }
            Assert.Contains("fix2-retry (baseline)", html);
            Assert.Contains("Baseline: fix2-retry", md);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } // best effort
        }
    }

    /// <summary>The failures section of an HTML or Markdown report.</summary>
    private static string Failures(string report)
    {
        int start = report.IndexOf("Failed trials</h2>", StringComparison.Ordinal) is >= 0 and var h ? h : report.IndexOf("## Failed trials", StringComparison.Ordinal);
        int end = report.IndexOf("</section>", start, StringComparison.Ordinal) is >= 0 and var e ? e : report.IndexOf("\n## ", start + 5, StringComparison.Ordinal);
        return report[start..end];
    }
}
