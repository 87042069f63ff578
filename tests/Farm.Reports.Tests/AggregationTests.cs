using Farm.Reports.Aggregation;
using Xunit;
using Farm.Simulation.Results;

namespace Farm.Reports.Tests;

public class AggregationTests
{
    [Theory]
    [InlineData(1, 12.7062047362)]
    [InlineData(2, 4.30265272975)]
    [InlineData(4, 2.77644510520)]
    [InlineData(9, 2.26215716280)]
    [InlineData(30, 2.04227245630)]
    [InlineData(120, 1.97993040505)]
    public void TQuantile_MatchesTables(int df, double expected) =>
        Assert.Equal(expected, FigureStats.TQuantile975(df), 9);

    [Fact]
    public void Stats_OfFourValues()
    {
        var s = FigureStats.Of([1, 2, 3, 4]);
        Assert.Equal(4, s.N);
        Assert.Equal(2.5, s.Mean);
        Assert.Equal(Math.Sqrt(5.0 / 3), s.Sd!.Value, 12);
        Assert.Equal(3.18244630528 * Math.Sqrt(5.0 / 3) / 2, s.CiHalfWidth!.Value, 9);
        Assert.Equal(1, s.Min);
        Assert.Equal(4, s.Max);
    }

    [Fact]
    public void Stats_OfOneValue_HaveNoSpread_AndOfNone_NoMean()
    {
        var one = FigureStats.Of([7]);
        Assert.Equal(7, one.Mean);
        Assert.Null(one.Sd);
        Assert.Null(one.CiLow);
        Assert.Null(one.CiHalfWidth);
        Assert.Equal(FigureStats.Empty, FigureStats.Of([]));
    }

    [Fact]
    public void Groups_IgnoreSeedAndEngine_AndLabelSwitches()
    {
        var a = Sweeps.Run("micro/pt-clear.yaml", ("policy", "kvm-3.1"), ("seed", "1"), ("engine", "sequential"));
        var b = Sweeps.Run("micro/pt-clear.yaml", ("policy", "kvm-3.1"), ("seed", "2"), ("engine", "actors"));
        var c = Sweeps.Run("micro/pt-clear.yaml", ("policy", "kvm-3.1"), ("seed", "1"), ("mmu.allow_low_byte_write", "true"));
        var d = Sweeps.Run("micro/pt-clear.yaml", ("policy", "kvm-3.3"), ("seed", "1"));
        var agg = Aggregate.Build([d, c, b, a]);

        Assert.Equal(["kvm-3.1", "kvm-3.1 + mmu.allow_low_byte_write=true", "kvm-3.3"], agg.Groups.Select(g => g.Label));
        Assert.Equal(["g1", "g2", "g3"], agg.Groups.Select(g => g.Id));
        var baseline = agg.Groups[0];
        Assert.Equal([a.Id, b.Id], baseline.Trials.Select(t => t.Id));
        Assert.Empty(agg.Workloads.Single().Axes);
        Assert.All(agg.Groups, g => Assert.Same(baseline, g.Baseline));
        Assert.Equal(d.Double("time.elapsed_seconds") / a.Double("time.elapsed_seconds"), agg.Groups[2].Ratio("time.elapsed_seconds")!.Value, 12);
        Assert.Equal(1, baseline.Ratio("exits.total"));
        Assert.DoesNotContain("trial.seed", agg.Figures);
        Assert.DoesNotContain(agg.Figures, f => f.StartsWith("vcpus", StringComparison.Ordinal) || f.StartsWith("run", StringComparison.Ordinal));
        Assert.Equal("time.elapsed_cycles", agg.Figures[0]);
    }

    [Fact]
    public void Axes_AreKeysThatVary_OtherThanPolicyAndSwitches()
    {
        var results = new[] { "1", "2" }.SelectMany(v => new[] { "kvm-3.1", "kvm-3.3" }.Select(p =>
            Sweeps.Run("micro/wrprotect.yaml", ("policy", p), ("vm.vcpus", v)))).ToList();
        var w = Aggregate.Build(results).Workloads.Single();
        Assert.Equal(["vm.vcpus"], w.Axes);
        Assert.Equal(["kvm-3.1, vm.vcpus=1", "kvm-3.3, vm.vcpus=1", "kvm-3.1, vm.vcpus=2", "kvm-3.3, vm.vcpus=2"], w.Groups.Select(g => g.Label));
        // each group is compared with kvm-3.1 at its own axis value
        Assert.Equal(["g1", "g1", "g3", "g3"], w.Groups.Select(g => g.Baseline!.Id));
        Assert.Equal(2, w.ComparisonSets.Count);
    }

    [Fact]
    public void Baseline_IsSelectable_ByLabel_ByAxisValue_ByConfig_AndByPredicate()
    {
        var results = new[] { "1", "2" }.SelectMany(v => new[] { "kvm-3.1", "kvm-3.3" }.Select(p =>
            Sweeps.Run("micro/wrprotect.yaml", ("policy", p), ("vm.vcpus", v)))).ToList();
        results.Add(Sweeps.Run("micro/wrprotect.yaml", ("policy", "kvm-3.1"), ("vm.vcpus", "1"), ("mmu.allow_low_byte_write", "true")));

        string[] Baselines(BaselineSelector s) => Aggregate.Build(results, s).Groups.Select(g => $"{g.Label} -> {g.Baseline?.Label}").ToArray();

        Assert.Equal(
        [
            "kvm-3.1, vm.vcpus=1 -> kvm-3.3, vm.vcpus=1", "kvm-3.1 + mmu.allow_low_byte_write=true, vm.vcpus=1 -> kvm-3.3, vm.vcpus=1",
            "kvm-3.3, vm.vcpus=1 -> kvm-3.3, vm.vcpus=1", "kvm-3.1, vm.vcpus=2 -> kvm-3.3, vm.vcpus=2", "kvm-3.3, vm.vcpus=2 -> kvm-3.3, vm.vcpus=2",
        ], Baselines(BaselineSelector.ByLabel("kvm-3.3")));

        // a switch set is named with the policy, in any order of its parts
        Assert.All(Baselines(BaselineSelector.ByLabel("mmu.allow_low_byte_write=true + kvm-3.1")),
            line => Assert.EndsWith("-> kvm-3.1 + mmu.allow_low_byte_write=true, vm.vcpus=1", line));

        // a bare axis value: that point serves every other one, each variant its own
        Assert.Equal(
        [
            "kvm-3.1, vm.vcpus=1 -> kvm-3.1, vm.vcpus=2", "kvm-3.1 + mmu.allow_low_byte_write=true, vm.vcpus=1 -> kvm-3.1, vm.vcpus=2",
            "kvm-3.3, vm.vcpus=1 -> kvm-3.3, vm.vcpus=2", "kvm-3.1, vm.vcpus=2 -> kvm-3.1, vm.vcpus=2", "kvm-3.3, vm.vcpus=2 -> kvm-3.3, vm.vcpus=2",
        ], Baselines(BaselineSelector.ByLabel("2")));

        Assert.Equal(Baselines(BaselineSelector.ByLabel("kvm-3.3")),
            Baselines(BaselineSelector.ByConfig(new Dictionary<string, string> { ["policy"] = "kvm-3.3" })));
        Assert.Equal(Baselines(BaselineSelector.ByLabel("kvm-3.1 + mmu.allow_low_byte_write=true")),
            Baselines(BaselineSelector.Where(g => g.Switches.Count == 1, "the one with a switch")));

        // the default, kvm-3.1 without switches, is not at vcpus=1 + switch's point: that group still gets kvm-3.1 at vcpus=1
        Assert.Equal("kvm-3.1, vm.vcpus=1", Aggregate.Build(results).Groups[1].Baseline!.Label);
    }

    [Fact]
    public void NoMatchingBaseline_LeavesRatiosEmpty()
    {
        var r = Sweeps.Run("micro/pt-clear.yaml", ("policy", "kvm-3.3"));
        var g = Aggregate.Build([r]).Groups.Single();
        Assert.Null(g.Baseline);
        Assert.Null(g.Ratio("time.elapsed_seconds"));
    }

    [Fact]
    public void FailedTrials_AreCountedAndListed_NotAveraged()
    {
        var bug = Sweeps.Run("micro/prefetch-drain.yaml", ("policy", "kvm-3.1"), ("seed", "1"));
        Assert.Equal(Outcome.HostBug, bug.Outcome);
        // the same configuration, completed (as if with another seed), with a known elapsed time
        var ok = Sweeps.With(Sweeps.WithSeed(bug, 2), ("time.elapsed_seconds", 0.5));
        ok.Root["outcome"] = "completed";
        ok.Root.Remove("error");

        var g = Aggregate.Build([bug, ok]).Groups.Single();
        Assert.Equal([(bug.Id, Outcome.HostBug), (ok.Id, Outcome.Completed)], g.Trials.Select(t => (t.Id, t.Outcome)));
        Assert.Equal(1, g.CompletedCount);
        Assert.Equal(1, g.HostBugs);
        Assert.Equal(0, g.Errors);
        Assert.Equal(1, g.Stat("time.elapsed_seconds").N);
        Assert.Equal(0.5, g.Mean("time.elapsed_seconds"));
        Assert.Equal("kvm-3.1 + mmu.flood_detector=write-count", g.Variant); // the workload file sets the 3.3 flood detector
    }
}
