using Farm.Actors;
using Farm.Cluster.Protocol;
using Farm.Cluster.Sweeps;
using Farm.Simulation.Config;
using Xunit;
using Farm.Simulation.Results;

namespace Farm.Cluster.Tests;

public class SweepSpecTests
{
    [Fact]
    public void SeedAblation_ExpandsWorkloadsTimesVariantsTimesSeeds_InSweepOrder()
    {
        var spec = SweepSpec.Load(Path.Combine(RepoPaths.Sweeps, "seed-ablation.yaml"));
        // 6 workloads × 6 variants × 3 seeds, then the sensitivity on kernbench: 2 variants × (2 × 6 keys + 20 draws) × 1 seed.
        Assert.Equal(6 * 6 * 3 + 2 * (2 * 6 + 20), spec.Trials.Count);
        Assert.Equal("workload=kernbench variant=kvm-3.3 sensitivity=draw:20 seed=1", spec.Trials[^1].Description);
        // The ordinary trials come first, as they would without the sensitivity block.
        string text = File.ReadAllText(Path.Combine(RepoPaths.Sweeps, "seed-ablation.yaml"));
        var ordinary = SweepSpec.Parse(text[..text.IndexOf("\nsensitivity:", StringComparison.Ordinal)], RepoPaths.Sweeps, sourceName: "seed-ablation.yaml");
        Assert.Equal(ordinary.Trials.Select(t => t.Id), spec.Trials.Take(ordinary.Trials.Count).Select(t => t.Id));
        spec = ordinary;
        Assert.Equal(6 * 6 * 3, spec.Trials.Count);
        Assert.Equal(["kvm-3.1", "kvm-3.3", "fix1-topup", "fix2-retry", "fix3-low-byte", "fix4-flood"], spec.Variants.Select(v => v.Name));
        // Workload outermost, seed innermost.
        Assert.Equal("workload=pt-clear variant=kvm-3.1 seed=1", spec.Trials[0].Description);
        Assert.Equal("workload=pt-clear variant=kvm-3.1 seed=3", spec.Trials[2].Description);
        Assert.Equal("workload=pt-clear variant=kvm-3.3 seed=1", spec.Trials[3].Description);
        Assert.Equal("workload=kernbench variant=fix4-flood seed=3", spec.Trials[^1].Description);
        Assert.Equal(Enumerable.Range(0, spec.Trials.Count), spec.Trials.Select(t => t.Position));

        var fix1 = spec.Trials.First(t => t.Description == "workload=wrprotect variant=fix1-topup seed=2").Spec.Config;
        Assert.True(fix1.Bool("mmu.topup_on_pte_write"));
        Assert.False(fix1.Bool("mmu.retry_non_pt_writes"));
        Assert.Equal("last-spte-accessed", fix1.Text("mmu.flood_detector"));
        Assert.Equal(2, fix1.Int("seed"));
        // The per-workload key reaches kernbench only.
        Assert.Equal(0.01, spec.Trials[^1].Spec.Config.Double("workload.scale"));
    }

    [Fact]
    public void AVariantThatResolvesToAnotherVariantsConfiguration_IsTheSameTrial()
    {
        // prefetch-drain's file selects the write-count detector itself: fix4 on it is kvm-3.1.
        var spec = SweepSpec.Load(Path.Combine(RepoPaths.Sweeps, "seed-ablation.yaml"));
        TrialId Id(string variant) => spec.Trials.Single(t => t.Description == $"workload=prefetch-drain variant={variant} seed=1").Id;
        Assert.Equal(Id("kvm-3.1"), Id("fix4-flood"));
        Assert.NotEqual(Id("kvm-3.1"), Id("fix1-topup"));
        Assert.True(spec.Trials.Select(t => t.Id).Distinct().Count() < spec.Trials.Count);
    }

    [Fact]
    public void NumericGrid_ExpandsFirstAxisOutermost()
    {
        var spec = SweepSpec.Load(Path.Combine(RepoPaths.Sweeps, "kernbench-vcpus.yaml"));
        Assert.Equal(12, spec.Trials.Count);
        Assert.Equal("workload=kernbench policy=kvm-3.1 vm.vcpus=1 seed=1", spec.Trials[0].Description);
        Assert.Equal("workload=kernbench policy=kvm-3.1 vm.vcpus=2 seed=1", spec.Trials[2].Description);
        Assert.Equal("workload=kernbench policy=kvm-3.3 vm.vcpus=4 seed=2", spec.Trials[^1].Description);
        Assert.Equal(4, spec.Trials[^1].Spec.Config.Int("vm.vcpus"));
    }

    [Fact]
    public void JsonSpec_IsTheSameSweepAsItsYaml()
    {
        var json = SweepSpec.Load(Path.Combine(RepoPaths.Sweeps, "flood-threshold.json"));
        Assert.Equal(5, json.Trials.Count);
        var yaml = Specs.Parse("""
            name: flood-threshold
            workload: ../micro/flood-reuse.yaml
            base: { policy: kvm-3.3 }
            axes: { mmu.flood_threshold: [1, 2, 3, 5, 8] }
            seeds: 1
            baseline: "3"
            """);
        Assert.Equal(yaml.Id, json.Id);
        Assert.Equal(yaml.Trials.Select(t => t.Id), json.Trials.Select(t => t.Id));
        // Tabs are valid JSON whitespace (not YAML indentation); a YAML flow mapping is still YAML.
        var tabbed = Specs.Parse("{\n\t\"name\": \"flood-threshold\",\n\t\"workload\": \"../micro/flood-reuse.yaml\",\n\t\"base\": {\"policy\": \"kvm-3.3\"},\n\t\"axes\": {\"mmu.flood_threshold\": [1, 2, 3, 5, 8]},\n\t\"baseline\": \"3\"\n}");
        Assert.Equal(json.Id, tabbed.Id);
        var flow = Specs.Parse("{name: flood-threshold, workload: ../micro/flood-reuse.yaml, base: {policy: kvm-3.3}, axes: {mmu.flood_threshold: [1, 2, 3, 5, 8]}, baseline: '3'}");
        Assert.Equal(json.Id, flow.Id);
    }

    [Fact]
    public void Ids_AreStableAcrossParses_AndIgnoreFormattingAndBaseKeyOrder()
    {
        var a = Specs.Parse(Specs.Small);
        var b = Specs.Parse(Specs.Small);
        Assert.Equal(a.Id, b.Id);
        Assert.Equal(a.Canonical, b.Canonical);
        Assert.Equal(a.Trials.Select(t => t.Id), b.Trials.Select(t => t.Id));

        var reordered = Specs.Parse("""
            # the same sweep, written differently
            seeds: 2
            axes: { policy: [kvm-3.1, kvm-3.3] }
            workload: ../micro/pt-clear.yaml
            name: small
            """);
        Assert.Equal(a.Id, reordered.Id);

        var withBase = Specs.Parse(Specs.Small + "\nbase: { mmu.prefetch: yes, vm.memory_mb: 256 }");
        var withBaseSwapped = Specs.Parse(Specs.Small + "\nbase: { vm.memory_mb: 256, mmu.prefetch: true }");
        Assert.Equal(withBase.Id, withBaseSwapped.Id);
    }

    [Fact]
    public void TrialIds_DependOnSeed_Config_AndNotOnEngine()
    {
        var spec = Specs.Parse(Specs.Small);
        Assert.Equal(4, spec.Trials.Select(t => t.Id).Distinct().Count());
        var onSequential = Specs.Parse(Specs.Small + "\nbase: { engine: sequential }");
        Assert.Equal(spec.Trials.Select(t => t.Id), onSequential.Trials.Select(t => t.Id));
        Assert.NotEqual(spec.Id, onSequential.Id); // the sweep says how to run; its trials are the same
        var seeded = Specs.Parse(Specs.Small + "\nbase: { seed: 7 }");
        Assert.Equal([7L, 8L, 7L, 8L], seeded.Trials.Select(t => t.Seed));
        Assert.Empty(seeded.Trials.Select(t => t.Id).Intersect(spec.Trials.Select(t => t.Id)));
    }

    [Fact]
    public void DifferentWorkloadText_WithTheSameName_GivesDifferentIds()
    {
        using var dir = new TempDir();
        string original = File.ReadAllText(Path.Combine(RepoPaths.Workloads, "micro", "pt-clear.yaml"));
        // Same name, same config keys: only the routines differ (clear_page as rep stosb).
        string withRoutine = original + "routines:\n  clear_page: { bits: 64, bytes: \"b9 00 10 00 00 31 c0 f3 aa c3\" }\n";
        string commentOnly = "# another comment\n" + original;
        string Sweep(string file) => $"name: s\nworkload: {file}\naxes: {{ policy: [kvm-3.1, kvm-3.3] }}\n";
        dir.File("a/pt-clear.yaml", original);
        dir.File("b/pt-clear.yaml", withRoutine);
        dir.File("c/pt-clear.yaml", commentOnly);
        dir.File("d/pt-clear.yaml", original.Replace("\n", "\r\n"));
        var a = SweepSpec.Parse(Sweep("a/pt-clear.yaml"), dir.Path);
        var b = SweepSpec.Parse(Sweep("b/pt-clear.yaml"), dir.Path);
        var c = SweepSpec.Parse(Sweep("c/pt-clear.yaml"), dir.Path);
        var d = SweepSpec.Parse(Sweep("d/pt-clear.yaml"), dir.Path);

        Assert.Equal(a.Trials[0].ConfigId, b.Trials[0].ConfigId); // what the simulator's own id sees: no difference
        Assert.NotEqual(a.Trials[0].Id, b.Trials[0].Id);
        Assert.NotEqual(a.Trials[0].Id, c.Trials[0].Id);           // the file text is the identity, comments included
        Assert.NotEqual(a.Id, b.Id);
        Assert.Equal(a.Trials.Select(t => t.Id), d.Trials.Select(t => t.Id)); // line endings are not
        Assert.Equal(a.Id, d.Id);
    }

    [Fact]
    public void Tickets_RebuildTheTrialSpec_OnAnotherNode()
    {
        var spec = Specs.Parse(Specs.Small);
        foreach (var trial in spec.Trials)
        {
            var rebuilt = trial.Ticket.ToSpec();
            Assert.Equal(trial.Spec.Config.Canonical(false), rebuilt.Config.Canonical(false));
            Assert.Equal(trial.Id, TrialIdentity.Compute(rebuilt, trial.Workload.Hash));
        }
        // A ticket whose id this node would not compute (another model or workload) is refused.
        var forged = spec.Trials[0].Ticket with { Id = spec.Trials[1].Id };
        var e = Assert.Throws<ConfigException>(() => forged.ToSpec());
        Assert.Contains("different model versions", e.Message);
    }

    [Fact]
    public void ATicketRunsToTheResultOfItsSpec()
    {
        var trial = Specs.Parse(Specs.Small).Trials[0];
        var result = TrialRunner.Run(trial.Ticket.ToSpec());
        Assert.Equal(Outcome.Completed, result.Outcome);
        Assert.Equal(trial.ConfigId, result.Id);
    }

    [Fact]
    public void ShippedWorkloadTexts_ReplaceTheDisk()
    {
        string text = File.ReadAllText(Path.Combine(RepoPaths.Workloads, "micro", "wrprotect.yaml"));
        var spec = SweepSpec.Parse("name: remote\nworkload: somewhere/else/wrprotect.yaml\n", baseDir: null,
            workloadTexts: new Dictionary<string, string> { ["somewhere/else/wrprotect.yaml"] = text });
        Assert.Equal("wrprotect", spec.Trials.Single().Workload.Name);
        Assert.Equal(1, spec.Trials.Single().Seed);
        Assert.Equal("kvm-3.1", spec.Baseline);
    }

    [Fact]
    public void MaxTrials_IsTheCallersLimit()
    {
        Assert.Equal(4, Specs.Parse(Specs.Small, maxTrials: 4).Trials.Count);
        var e = Assert.Throws<ConfigException>(() => Specs.Parse(Specs.Small, maxTrials: 3));
        Assert.Contains("expands to 4 trials (1 workloads × 2 policy values × 2 seeds); the limit is 3", e.Message);
    }
}
