using Farm.Simulation.Config;
using Farm.Simulation.Results;
using Farm.Simulation.Tests.Kvm;
using Farm.Simulation.Workloads;
using Farm.Simulation.Workloads.Kernbench;
using Xunit;

namespace Farm.Simulation.Tests.Workloads;

/// <summary>
/// The kernbench workload: its defaults reproduce the published build totals (Calibration), a
/// small-scale trial reproduces them scaled, and every variant completes, deterministically.
/// </summary>
[Trait("Category", "Slow")] // docs/testing.md: left out of the quick subset
public class KernbenchTests
{
    private const double SmallScale = 0.002;

    /// <summary>workloads/kernbench*.yaml: the guest of each variant, at a small scale.</summary>
    public static TheoryData<string, string, string> Variants()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (paging, flavour) in new[] { ("x86-64", "linux-3.x"), ("i386", "linux-3.x-i386"), ("pae", "linux-3.x-pae"), ("x86-64", "recent") })
            foreach (var policy in new[] { "kvm-3.1", "kvm-3.3" })
                data.Add(paging, flavour, policy);
        return data;
    }

    private static TrialResult Run(params string[] sets) =>
        MicroHarness.Run("kernbench", ["vm.vcpus=4", "vm.memory_mb=512", "workload.jobs=8", $"workload.scale={SmallScale}", .. sets]);

    private static KernbenchSettings Defaults(params string[] sets) =>
        KernbenchSettings.From(SimConfig.Resolve(MicroHarness.Pairs(["vm.vcpus=4", .. sets]), WorkloadRegistry.Get("kernbench").Keys));

    [Fact]
    public void Defaults_AtScaleOne_ReproduceThePublishedBuild()
    {
        var s = Defaults();
        Assert.Equal(4160, s.Units);
        Assert.InRange(s.ExpectedProcesses / Calibration.Processes, 0.99, 1.01);
        Assert.InRange(s.ExpectedPageFaults / Calibration.MinorFaults, 0.99, 1.01);
        // User compute: the published user time at the guest clock (cost.guest_ghz = 2.5).
        Assert.InRange(s.ExpectedCycles / (Calibration.UserSeconds * 2.5e9), 0.99, 1.01);
        Assert.Equal(Calibration.ProcessesPerUnit, s.Unit.Processes);
    }

    [Fact]
    public void SmallScale_TotalsAreWithinTenPercentOfTheScaledTargets()
    {
        var r = Run("seed=1");
        Assert.Equal(Outcome.Completed, r.Outcome);
        Assert.InRange(r.Long("guest.processes") / (Calibration.Processes * SmallScale), 0.9, 1.1);
        Assert.InRange(r.Long("guest.page_faults") / (Calibration.MinorFaults * SmallScale), 0.9, 1.1);
        // Every process but one make per vCPU was forked and exec'd, and every one exited.
        Assert.Equal(r.Long("guest.processes") - 4, r.Long("guest.forks"));
        Assert.Equal(r.Long("guest.forks"), r.Long("guest.execs"));
        Assert.Equal(r.Long("guest.pt_pages_allocated"), r.Long("guest.pt_pages_freed"));
    }

    [Fact]
    public void SmallScale_MatchesTheExpectationOfItsOwnDefaults()
    {
        var s = Defaults($"workload.scale={SmallScale}");
        var r = Run("seed=3");
        Assert.Equal((long)s.ExpectedProcesses, r.Long("guest.processes"));
        Assert.InRange(r.Long("guest.page_faults") / s.ExpectedPageFaults, 0.95, 1.05);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void EveryVariant_CompletesUnderBothPresets(string paging, string flavour, string policy)
    {
        var r = Run($"vm.paging={paging}", $"guest.flavour={flavour}", $"policy={policy}");
        Assert.True(r.Outcome == Outcome.Completed, r.Error);
        Assert.True(r.Long("exits.cr3") > 0);
        Assert.Equal(r.Long("guest.pt_pages_allocated"), r.Long("guest.pt_pages_freed"));
    }

    [Fact]
    public void SameSeedTwice_IdenticalJson_OtherSeed_Differs()
    {
        var a = Run("seed=7", "policy=kvm-3.1");
        var b = Run("seed=7", "policy=kvm-3.1");
        var c = Run("seed=8", "policy=kvm-3.1");
        Assert.Equal(a.ToJson(withRun: false), b.ToJson(withRun: false));
        Assert.NotEqual(a.Long("guest.page_faults"), c.Long("guest.page_faults"));
    }

    [Fact]
    public void BothPresets_RunTheSameBuild()
    {
        // Draws come from per-unit streams, not from the order the scheduler (whose slices depend
        // on MMU costs) happens to run processes in: the guest does the same work under both.
        var before = Run("policy=kvm-3.1", "seed=5");
        var after = Run("policy=kvm-3.3", "seed=5");
        Assert.Equal(before.Long("guest.processes"), after.Long("guest.processes"));
        Assert.Equal(before.Long("guest.page_faults"), after.Long("guest.page_faults"));
        Assert.Equal(before.Long("guest.pt_pages_allocated"), after.Long("guest.pt_pages_allocated"));
        Assert.NotEqual(before.Long("emulation.elements"), after.Long("emulation.elements"));
    }

    [Fact]
    public void TwoVcpus_Complete_AndShareTheUnits()
    {
        var r = Run("vm.vcpus=2", "workload.jobs=4");
        Assert.Equal(Outcome.Completed, r.Outcome);
        var s = Defaults("vm.vcpus=2", $"workload.scale={SmallScale}");
        Assert.Equal((long)s.ExpectedProcesses, r.Long("guest.processes"));
        var vcpus = r.Root["vcpus"]!.AsArray();
        Assert.Equal(2, vcpus.Count);
        Assert.All(vcpus, v => Assert.True((long)v!["exits"]! > 0));
    }

    [Fact]
    public void FewerJobsThanVcpus_IdleVcpusRunOnlyTheirMake()
    {
        var r = Run("workload.jobs=2");
        Assert.Equal(Outcome.Completed, r.Outcome);
        Assert.Equal((long)Defaults($"workload.scale={SmallScale}", "workload.jobs=2").ExpectedProcesses, r.Long("guest.processes"));
    }

    [Fact]
    public void Units_ScaleWithTheBuild_AndAlwaysAtLeastOne()
    {
        Assert.Equal(416, Defaults("workload.scale=0.1").Units);
        Assert.Equal(1, Defaults("workload.scale=0").Units);
        var s = Defaults("workload.scale=0.01", "workload.jobs=3");
        Assert.Equal(s.Units, Enumerable.Range(0, 4).Sum(i => s.UnitsOf(i)));
        Assert.Equal(3, Enumerable.Range(0, 4).Sum(i => s.Slots(i)));
        Assert.Equal(0, s.UnitsOf(3));
    }
}
