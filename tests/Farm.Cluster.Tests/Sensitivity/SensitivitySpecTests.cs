using System.Globalization;
using Farm.Actors;
using Farm.Cluster.Store;
using Farm.Cluster.Sweeps;
using Farm.Simulation.Config;
using Xunit;

namespace Farm.Cluster.Tests.Sensitivity;

/// <summary>The <c>sensitivity:</c> block of a sweep spec: its design, its trials, and its errors (docs/sweeps.md).</summary>
public class SensitivitySpecTests
{
    private const string Variants = """
        variants:
          kvm-3.1: { policy: kvm-3.1 }
          kvm-3.3: { policy: kvm-3.3 }
          fix3:    { policy: kvm-3.1, mmu.allow_low_byte_write: true }
        """;

    private static string Spec(string sensitivity, string extra = "", int seeds = 2) =>
        $"name: sens\nworkloads: [../micro/pt-clear.yaml, ../micro/wrprotect.yaml]\n{Variants}\naxes: {{ vm.vcpus: [1, 2] }}\nseeds: {seeds}\n{extra}sensitivity:\n{sensitivity}";

    private static string Value(SweepTrial t, string key) => t.Spec.Config.Text(key);

    [Fact]
    public void TrialCount_IsTheOrdinaryTrials_ThenWorkloadsTimesVariantsTimesPointsTimesRolesTimesSeeds()
    {
        var spec = Specs.Parse(Spec("""
              keys: [cost.exit, cost.emulate, cost.zap_page]
              draws: 7
              workloads: [pt-clear]
              variants: [kvm-3.1, kvm-3.3]
              seeds: 2
            """));
        int ordinary = 2 * 3 * 2 * 2;          // workloads × variants × vm.vcpus × seeds
        int sensitivity = 1 * 2 * 2 * (2 * 3 + 7) * 2; // pt-clear × 2 variants × 2 points × (low+high per key + draws) × 2 seeds
        Assert.Equal(ordinary + sensitivity, spec.Trials.Count);
        Assert.All(spec.Trials.Take(ordinary), t => Assert.Null(t.Sensitivity));
        Assert.All(spec.Trials.Skip(ordinary), t => Assert.NotNull(t.Sensitivity));
        // Order: workload, variant, axis point, sensitivity point (keys low then high, then draws), seed innermost.
        Assert.Equal("workload=pt-clear variant=kvm-3.1 vm.vcpus=1 sensitivity=low:cost.exit seed=1", spec.Trials[ordinary].Description);
        Assert.Equal("workload=pt-clear variant=kvm-3.1 vm.vcpus=1 sensitivity=low:cost.exit seed=2", spec.Trials[ordinary + 1].Description);
        Assert.Equal("workload=pt-clear variant=kvm-3.1 vm.vcpus=1 sensitivity=high:cost.exit seed=1", spec.Trials[ordinary + 2].Description);
        Assert.Equal("workload=pt-clear variant=kvm-3.3 vm.vcpus=2 sensitivity=draw:7 seed=2", spec.Trials[^1].Description);
        Assert.Equal("1350", Value(spec.Trials[ordinary], "cost.exit"));
        Assert.Equal("2000", Value(spec.Trials[ordinary + 2], "cost.exit"));
        Assert.Equal("2400", Value(spec.Trials[ordinary], "cost.emulate")); // the others as the trial has them
        // Adding a sensitivity leaves every ordinary trial where it was.
        var plain = Specs.Parse(Spec("").Replace("sensitivity:\n", ""));
        Assert.Equal(plain.Trials.Select(t => t.Id), spec.Trials.Take(ordinary).Select(t => t.Id));
        Assert.Equal(ordinary, plain.Trials.Count);
    }

    [Fact]
    public void Draws_AreALatinHypercube_InsideTheRanges_AndShareCostsAndSeedsAcrossVariantsAndWorkloads()
    {
        const int draws = 20;
        var spec = Specs.Parse(Spec($"  keys: cost.*\n  one_at_a_time: false\n  draws: {draws}\n"));
        var s = spec.Sensitivity!;
        var costKeys = ConfigSchema.Keys.Where(k => k.Name.StartsWith("cost.", StringComparison.Ordinal)).ToList();
        Assert.Equal(costKeys.Select(k => k.Name), s.Keys.Select(k => k.Key));
        Assert.Equal(draws, s.Points.Count);
        for (int j = 0; j < s.Keys.Count; j++)
        {
            // One draw in each of the `draws` equal strata of [0, 1) for every key.
            var strata = s.Unit.Select(u => (int)Math.Floor(u[j] * draws)).Order().ToList();
            Assert.Equal(Enumerable.Range(0, draws), strata);
        }

        var drawTrials = spec.Trials.Where(t => t.Sensitivity is not null).ToList();
        Assert.Equal(2 * 3 * 2 * draws * 1, drawTrials.Count); // every workload and variant, 2 points, seeds: 1 by default
        foreach (var t in drawTrials)
            foreach (var k in s.Keys)
            {
                double v = double.Parse(Value(t, k.Key), CultureInfo.InvariantCulture);
                Assert.True(k.Range.Contains(v), $"{t.Description}: {k.Key}={v} outside {k.Range}");
            }
        // The same draw has the same costs and the same seed on every workload, variant and point (common random numbers).
        foreach (var byDraw in drawTrials.GroupBy(t => t.Sensitivity))
        {
            Assert.Single(byDraw.Select(t => string.Join(',', s.Keys.Select(k => Value(t, k.Key)))).Distinct());
            Assert.All(byDraw, t => Assert.Equal(1, t.Seed));
        }
        // Draws differ from one another.
        Assert.Equal(draws, drawTrials.Select(t => Value(t, "cost.exit") + Value(t, "cost.syscall")).Distinct().Count());
    }

    [Fact]
    public void TheDesign_IsAFunctionOfTheSpec_SoAResubmissionExpandsToTheSameTrials()
    {
        string text = Spec("  keys: [cost.exit, cost.syscall]\n  draws: 5\n");
        var a = Specs.Parse(text);
        var b = Specs.Parse("# reformatted\n" + text.Replace("draws: 5", "draws:    5   # five"));
        Assert.Equal(a.Id, b.Id);
        Assert.Equal(a.Trials.Select(t => t.Id), b.Trials.Select(t => t.Id));

        var other = Specs.Parse(text.Replace("draws: 5", "draws: 5\n  design_seed: 2"));
        Assert.NotEqual(a.Id, other.Id);
        Assert.NotEqual(a.Sensitivity!.Points[^1].Settings, other.Sensitivity!.Points[^1].Settings);
        // One key at a time does not depend on the design seed.
        Assert.Equal(a.Sensitivity.Points[0].Settings, other.Sensitivity.Points[0].Settings);
    }

    [Fact]
    public void AKeyAtTheValueTheTrialHasAnyway_IsThePlainTrial_ByteForByte()
    {
        // base sets cost.exit to the low end of its range: the low:cost.exit trial is the ordinary trial itself.
        var spec = Specs.Parse(Spec("  keys: [cost.exit]\n  draws: 0\n", extra: "base: { cost.exit: 1350 }\n"));
        var low = spec.Trials.First(t => t.Sensitivity == "low:cost.exit");
        string labels = string.Join(' ', low.Labels.Where(l => l.Key != SweepSensitivity.LabelKey));
        var plain = spec.Trials.Single(t => t.Sensitivity is null && t.Description == labels);
        Assert.Equal(plain.Id, low.Id);
        Assert.NotEqual(plain.Id, spec.Trials.First(t => t.Sensitivity == "high:cost.exit" && t.Description.StartsWith(labels[..^7], StringComparison.Ordinal)).Id);

        // A trial given a cost key at its default is the trial without it: same id, same result bytes.
        var file = plain.Workload.File;
        var withoutKey = file.ToTrial([KeyValuePair.Create("policy", "kvm-3.1")]);
        var atDefault = file.ToTrial([KeyValuePair.Create("policy", "kvm-3.1"), KeyValuePair.Create("cost.exit", "1600"), KeyValuePair.Create("cost.syscall", "20000")]);
        Assert.Equal(TrialIdentity.Compute(withoutKey, plain.Workload.Hash), TrialIdentity.Compute(atDefault, plain.Workload.Hash));
        Assert.Equal(TrialRunner.Run(withoutKey).ToJson(withRun: false), TrialRunner.Run(atDefault).ToJson(withRun: false));
    }

    [Fact]
    public void AResubmittedSweep_RunsNothingAgain_AndAddingASensitivity_RunsOnlyItsTrials()
    {
        string db = Path.Combine(Path.GetTempPath(), $"farm-sens-{Guid.NewGuid():N}.db");
        try
        {
            using var store = new ResultStore(db);
            string plainText = Spec("").Replace("sensitivity:\n", "");
            var plain = Specs.Parse(plainText);
            Finish(store, plain);
            var spec = Specs.Parse(Spec("  keys: [cost.exit, cost.emulate]\n  draws: 4\n  workloads: [wrprotect]\n"));
            var first = store.SubmitSweep(spec);
            int sensitivityTrials = spec.Trials.Count(t => t.Sensitivity is not null); // none equals an ordinary trial here
            Assert.Equal(sensitivityTrials, first.ToRun);
            Assert.Equal(plain.Trials.Count, first.Reused);
            Finish(store, spec);
            var again = store.SubmitSweep(Specs.Parse(Spec("  keys: [cost.exit, cost.emulate]\n  draws: 4\n  workloads: [wrprotect]\n")));
            Assert.Equal(0, again.ToRun);
            Assert.Equal(spec.Trials.Select(t => t.Id).Distinct().Count(), again.Reused);
            Assert.Equal(spec.Trials.Count, store.Results(spec.Id).Count(r => r.Status == "done"));
        }
        finally
        {
            foreach (var f in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(db) + "*")) File.Delete(f);
        }

        static void Finish(ResultStore store, SweepSpec s)
        {
            store.SubmitSweep(s);
            foreach (var ticket in store.NextQueued(100_000))
                Assert.True(store.StoreResult(ticket.Id, Specs.FakeResult(s.Trials.First(t => t.Id == ticket.Id))));
        }
    }

    [Theory]
    [InlineData("  keys: [cost.exitt]\n", "sensitivity.keys[0]: unknown key 'cost.exitt'; keys with a plausible range: cost.guest_ghz, cost.exit")]
    [InlineData("  keys: [mmu.prefetch]\n", "sensitivity.keys[0]: 'mmu.prefetch' has no plausible range to vary over")]
    [InlineData("  keys: mmu.*\n", "sensitivity.keys: 'mmu.*' matches no key with a plausible range")]
    [InlineData("  keys: [cost.exit, cost.exit]\n", "sensitivity.keys[1]: 'cost.exit' is listed twice")]
    [InlineData("  draws: 3\n", "sensitivity.keys: missing; give a list of cost keys, or cost.* for every one")]
    [InlineData("  keys: cost.*\n  draws: -1\n", "sensitivity.draws: '-1' is not valid; valid: a whole number 0..1000")]
    [InlineData("  keys: cost.*\n  seeds: 3\n", "sensitivity.seeds: '3' is not valid; valid: a whole number 1..2")]
    [InlineData("  keys: cost.*\n  workloads: [kernbench]\n", "sensitivity.workloads[0]: 'kernbench' is not a workload of this sweep; valid: pt-clear, wrprotect")]
    [InlineData("  keys: cost.*\n  variants: [fix9]\n", "sensitivity.variants[0]: 'fix9' is not a variant of this sweep; valid: kvm-3.1, kvm-3.3, fix3")]
    [InlineData("  keys: cost.*\n  one_at_a_time: false\n  draws: 0\n", "sensitivity: nothing to run: one_at_a_time is false and draws is 0")]
    [InlineData("  keys: cost.*\n  one_at_a_time: maybe\n", "sensitivity.one_at_a_time: 'maybe' is not valid; valid: true, false")]
    [InlineData("  keys: cost.*\n  samples: 3\n", "sensitivity.samples: unknown key; valid: keys, one_at_a_time, draws, workloads, variants, seeds, design_seed")]
    public void ABadBlock_IsOneLineNamingWhatIsWrongAndWhatIsValid(string block, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => Specs.Parse(Spec(block)));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void AKeyOnAnAxisOrSetByAVariant_CannotAlsoBeVaried()
    {
        var axis = Assert.Throws<ConfigException>(() => Specs.Parse(Spec("  keys: [cost.exit]\n").Replace("axes: { vm.vcpus: [1, 2] }", "axes: { cost.exit: [1400, 1800] }")));
        Assert.Contains("'cost.exit' is also an axis", axis.Message);
        var variant = Assert.Throws<ConfigException>(() => Specs.Parse(Spec("  keys: cost.*\n").Replace("fix3:    { policy: kvm-3.1, mmu.allow_low_byte_write: true }", "fix3: { policy: kvm-3.1, cost.exit: 1700 }")));
        Assert.Contains("'cost.exit' is set by variant 'fix3'", variant.Message);
    }

    [Fact]
    public void TheTrialLimit_CountsTheSensitivity()
    {
        var e = Assert.Throws<ConfigException>(() => Specs.Parse(Spec("  keys: cost.*\n  draws: 1000\n"), maxTrials: 5000));
        Assert.Contains("the limit is 5000", e.Message);
        int costKeys = ConfigSchema.Keys.Count(k => k.Name.StartsWith("cost.", StringComparison.Ordinal));
        Assert.Contains($"sensitivity trials (2 workloads × 3 variants × 2 × {costKeys} keys + 1000 draws × 1 seeds × grid points)", e.Message);
    }
}
