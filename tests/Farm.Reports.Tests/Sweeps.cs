using System.Text.Json.Nodes;
using Farm.Actors;
using Farm.Simulation.Results;
using Farm.Workloads;

namespace Farm.Reports.Tests;

/// <summary>Small real sweeps, run once per test process on the actor engine (TrialRunner).</summary>
internal static class Sweeps
{
    /// <summary>kvm-3.1, kvm-3.3 and each of the four fixes alone on kvm-3.1.</summary>
    public static readonly (string Name, (string Key, string Value)[] Sets)[] Variants =
    [
        ("kvm-3.1", [("policy", "kvm-3.1")]),
        ("kvm-3.3", [("policy", "kvm-3.3")]),
        ("fix1", [("policy", "kvm-3.1"), ("mmu.topup_on_pte_write", "true")]),
        ("fix2", [("policy", "kvm-3.1"), ("mmu.retry_non_pt_writes", "true")]),
        ("fix3", [("policy", "kvm-3.1"), ("mmu.allow_low_byte_write", "true")]),
        ("fix4", [("policy", "kvm-3.1"), ("mmu.flood_detector", "write-count")]),
    ];

    public const string Spec = """
        # The reports' test sweep: every fix alone against both presets on two micro workloads,
        # on 1 and 2 vCPUs, two seeds; plus prefetch-drain under both presets (kvm-3.1 hits the BUG_ON).
        name: reports-test
        workloads: [../micro/pt-clear.yaml, ../micro/wrprotect.yaml]
        variants:
          kvm-3.1: { policy: kvm-3.1 }
          kvm-3.3: { policy: kvm-3.3 }
          fix1:    { policy: kvm-3.1, mmu.topup_on_pte_write: true }
          fix2:    { policy: kvm-3.1, mmu.retry_non_pt_writes: true }
          fix3:    { policy: kvm-3.1, mmu.allow_low_byte_write: true }
          fix4:    { policy: kvm-3.1, mmu.flood_detector: write-count }
        axes: { vm.vcpus: [1, 2] }
        seeds: 2
        """;

    /// <summary>pt-clear and wrprotect × 6 variants × vm.vcpus {1,2} × seeds {1,2} (48 trials), plus prefetch-drain under both presets × 2 seeds (2 host-bugs).</summary>
    public static IReadOnlyList<TrialResult> Small => LazySmall.Value;
    private static readonly Lazy<IReadOnlyList<TrialResult>> LazySmall = new(() =>
    {
        var results = new List<TrialResult>();
        foreach (string workload in new[] { "micro/pt-clear.yaml", "micro/wrprotect.yaml" })
            foreach (var (_, sets) in Variants)
                foreach (string vcpus in new[] { "1", "2" })
                    foreach (string seed in new[] { "1", "2" })
                        results.Add(Run(workload, [.. sets, ("vm.vcpus", vcpus), ("seed", seed)]));
        foreach (string policy in new[] { "kvm-3.1", "kvm-3.3" })
            foreach (string seed in new[] { "1", "2" })
                results.Add(Run("micro/prefetch-drain.yaml", ("policy", policy), ("seed", seed)));
        return results;
    });

    public static TrialResult Run(string workload, params (string Key, string Value)[] sets) =>
        TrialRunner.Run(WorkloadFile.Load(RepoPaths.Workload(workload)).ToTrial(sets.Select(s => KeyValuePair.Create(s.Key, s.Value))));

    /// <summary>A copy of <paramref name="result"/> with some figures replaced (to give seeds a spread that micro workloads do not have).</summary>
    public static TrialResult With(TrialResult result, params (string Path, double Value)[] figures)
    {
        var root = JsonNode.Parse(result.Root.ToJsonString())!.AsObject();
        foreach (var (path, value) in figures)
        {
            var parts = path.Split('.');
            JsonNode node = root;
            foreach (string p in parts[..^1]) node = node[p]!;
            node[parts[^1]] = value == Math.Round(value) && Math.Abs(value) < 1e15 ? JsonValue.Create((long)value) : JsonValue.Create(value);
        }
        return new TrialResult(root);
    }

    /// <summary>A copy with another seed (and trial id), as another run of the same configuration.</summary>
    public static TrialResult WithSeed(TrialResult result, long seed)
    {
        var root = JsonNode.Parse(result.Root.ToJsonString())!.AsObject();
        root["trial"]!["seed"] = seed;
        root["trial"]!["config"]!["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        root["trial"]!["id"] = $"{root["trial"]!["id"]}-s{seed}";
        return new TrialResult(root);
    }
}
