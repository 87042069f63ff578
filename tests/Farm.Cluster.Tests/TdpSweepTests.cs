using Farm.Cluster.Sweeps;
using Farm.Simulation.Config;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>workloads/sweeps/tdp-floor.yaml: tdp is a policy like the presets, in the same sweep (docs/tdp.md).</summary>
public class TdpSweepTests
{
    [Fact]
    public void TdpFloorSweep_ExpandsEveryVariantWithTheSameSeeds()
    {
        var spec = SweepSpec.Load(Path.Combine(RepoPaths.Sweeps, "tdp-floor.yaml"));
        var ordinary = spec.Trials.Where(t => t.Sensitivity is null).ToList();
        // 3 workloads x 4 variants x 2 seeds; then kernbench's sensitivity on seed 1:
        // 4 variants x (2 ends x 4 keys + 20 draws).
        Assert.Equal(3 * 4 * 2, ordinary.Count);
        Assert.Equal(4 * (2 * 4 + 20), spec.Trials.Count - ordinary.Count);
        Assert.Equal(["kvm-3.1", "kvm-3.3", "kvm-3.1", "tdp"], spec.Variants.Select(v => ordinary.First(t => t.Description.Contains($"variant={v.Name} ")).Spec.Config.Text("policy")));
        // Common random numbers: every variant of a workload runs the same seeds.
        foreach (var w in ordinary.GroupBy(t => t.Workload.Name))
            Assert.Single(w.GroupBy(t => t.Spec.Config.Text("policy")).Select(g => string.Join(",", g.Select(t => t.Seed).Distinct().Order())).Distinct());
    }

    [Fact]
    public void Tdp_IsAValidBaseline()
    {
        string text = "name: s\nworkload: ../micro/pt-clear.yaml\naxes: { policy: [kvm-3.3, tdp] }\nbaseline: tdp\n";
        Assert.Equal("tdp", SweepSpec.Parse(text, RepoPaths.Sweeps).Baseline);
        var e = Assert.Throws<ConfigException>(() => SweepSpec.Parse(text.Replace("baseline: tdp", "baseline: ept"), RepoPaths.Sweeps));
        Assert.Contains("tdp", e.Message);
    }
}
