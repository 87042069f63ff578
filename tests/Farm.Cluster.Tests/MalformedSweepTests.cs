using Farm.Cluster.Store;
using Farm.Cluster.Sweeps;
using Farm.Simulation.Config;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>Every malformed spec is a <see cref="ConfigException"/> that names the place and what is valid, and nothing is stored.</summary>
public class MalformedSweepTests
{
    private const string W = "workload: ../micro/pt-clear.yaml\n";

    public static TheoryData<string, string, string> Cases() => new()
    {
        // case, spec, a fragment of the expected message
        { "bad YAML (with its line)", "name: s\n" + W + "seeds: 1: 2\n", "test.yaml:3: malformed YAML: While scanning a plain scalar value, found invalid mapping" },
        { "bad JSON", "{ \"name\": \"s\", \"seeds\": }", "test.yaml:1: malformed JSON" },
        { "empty spec", "# nothing\n", "the sweep spec is empty; a sweep spec is one mapping with keys name, workload, workloads, base, variants, axes, seeds, baseline" },
        { "not a mapping", "- a\n- b\n", "a sweep spec is one mapping with keys" },
        { "unknown top-level key", "name: s\n" + W + "axis:\n  policy: [kvm-3.1]\n", "test.yaml:3: axis: unknown key; valid: name, workload, workloads, base, variants, axes, seeds, baseline" },
        { "missing name", W, "missing 'name'" },
        { "missing workload", "name: s\n", "workload: missing; give 'workload' (a workload file path) or 'workloads' (a list of paths)" },
        { "workload and workloads", "name: s\n" + W + "workloads: [../micro/wrprotect.yaml]\n", "workloads: give either 'workload' (one path) or 'workloads'" },
        { "missing workload file", "name: s\nworkload: ../micro/nope.yaml\n", "test.yaml:2: workload: workload file '../micro/nope.yaml' does not exist" },
        { "malformed workload file", "name: s\nworkload: ../../README.md\n", "workload: ../../README.md" },
        { "unknown config key in base", "name: s\n" + W + "base:\n  mmu.topup: true\n", "test.yaml:4: base.mmu.topup: unknown key 'mmu.topup'; valid keys under 'mmu.': mmu.topup_on_pte_write" },
        { "unknown workload key in axes", "name: s\n" + W + "axes:\n  workload.pages: [1, 2]\n", "test.yaml:4: axes.workload.pages: unknown key 'workload.pages'; valid keys under 'workload.': workload.regions" },
        { "workload key valid for one workload only", "name: s\nworkloads: [../micro/wrprotect.yaml, ../micro/pt-clear.yaml]\nbase: { workload.pages: 8 }\n", "base.workload.pages: unknown key 'workload.pages'; valid keys under 'workload.': workload.regions, workload.pages_per_region, workload.rounds (for workload 'pt-clear')" },
        { "wrong value type in base", "name: s\n" + W + "base: { vm.vcpus: many }\n", "base.vm.vcpus: vm.vcpus: 'many' is not an integer (valid: 1..64)" },
        { "wrong value type in an axis", "name: s\n" + W + "axes:\n  mmu.prefetch: [true, maybe]\n", "test.yaml:4: axes.mmu.prefetch[1]: mmu.prefetch: 'maybe' is not a boolean; valid: true, false" },
        { "value out of range", "name: s\n" + W + "axes: { vm.vcpus: [1, 128] }\n", "axes.vm.vcpus[1]: vm.vcpus: 128 is out of range (valid: 1..64)" },
        { "page budget below KVM's minimum", "name: s\n" + W + "axes: { mmu.pages_max: [0, 8] }\n", "axes.mmu.pages_max[1]: mmu.pages_max: 8 is out of range (valid: 0 for KVM's default, or 64..16777216; KVM refuses fewer than KVM_MIN_ALLOC_MMU_PAGES = 64" },
        { "invalid policy in a variant", "name: s\n" + W + "variants:\n  new: { policy: kvm-4.0 }\n", "variants.new.policy: policy: 'kvm-4.0' is not valid; valid: kvm-3.1, kvm-3.3" },
        { "list where a value belongs", "name: s\n" + W + "base:\n  vm.vcpus: [1, 2]\n", "base.vm.vcpus: must be a single value (lists go under 'axes'), not a list" },
        { "axis that is not a list", "name: s\n" + W + "axes:\n  vm.vcpus: 4\n", "axes.vm.vcpus: must be a list of values, e.g. [1, 2, 4]" },
        { "empty axis", "name: s\n" + W + "axes:\n  vm.vcpus: []\n", "test.yaml:4: axes.vm.vcpus: empty list; give at least one value" },
        { "value listed twice", "name: s\n" + W + "axes: { mmu.prefetch: [on, true] }\n", "axes.mmu.prefetch[1]: 'true' is listed twice" },
        { "axis over the seed", "name: s\n" + W + "axes: { seed: [1, 2] }\n", "axes.seed: seeds are set by 'seeds' (a count) and 'base.seed' (the first seed)" },
        { "axis also set by a variant", "name: s\n" + W + "variants: { a: { policy: kvm-3.1 } }\naxes: { policy: [kvm-3.3] }\n", "axes.policy: also set by variant 'a'" },
        { "empty variants", "name: s\n" + W + "variants: {}\n", "variants: empty; give at least one variant" },
        { "base seed that wraps", "name: s\n" + W + "base: { seed: 9223372036854775807 }\nseeds: 2\n", "base.seed: 9223372036854775807 with 2 seeds goes past the largest seed; valid: 0..9223372036854775806" },
        { "seeds zero", "name: s\n" + W + "seeds: 0\n", "test.yaml:3: seeds: '0' is not valid; valid: a whole number of seeds, 1 or more" },
        { "seeds not a number", "name: s\n" + W + "seeds: three\n", "seeds: 'three' is not valid; valid: a whole number of seeds, 1 or more" },
        { "unknown baseline", "name: s\n" + W + "axes: { vm.vcpus: [1, 2] }\nbaseline: kvm-2.6\n", "baseline: 'kvm-2.6' is neither a variant, an axis value nor a policy of this sweep; valid: 1, 2, kvm-3.1, kvm-3.3" },
        { "too many trials", "name: s\n" + W + "axes:\n  vm.vcpus: [1, 2, 4, 8, 16, 32, 64]\n  mmu.flood_threshold: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nseeds: 200\n", "trials: the sweep expands to 14000 trials (1 workloads × 7 vm.vcpus values × 10 mmu.flood_threshold values × 200 seeds); the limit is 10000" },
        { "unknown key in a workload entry", "name: s\nworkloads:\n  - { file: ../micro/pt-clear.yaml, with: {} }\n", "workloads[0].with: unknown key; valid: file, set" },
        { "duplicate YAML key", "name: s\n" + W + "seeds: 2\nseeds: 3\n", "test.yaml:4: malformed YAML" },
        { "duplicate JSON key", "{ \"name\": \"a\", \"name\": \"b\" }", "name: duplicate key" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MalformedSpec_IsAClearError_AndNothingIsStored(string what, string spec, string message)
    {
        using var dir = new TempDir();
        using var store = new ResultStore(Path.Combine(dir.Path, "farm.db"));
        var e = Assert.Throws<ConfigException>(() => store.SubmitSweep(SweepSpec.Parse(spec, RepoPaths.Sweeps, SweepSpec.DefaultMaxTrials, "test.yaml")));
        Assert.True(e.Message.Contains(message, StringComparison.Ordinal), $"{what}: expected '{message}' in: {e.Message}");
        Assert.Empty(store.ListSweeps());
        Assert.Empty(store.NextQueued(10));
    }
}
