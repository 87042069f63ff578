using System.Text.Json.Nodes;
using Farm.Actors;
using Farm.Cluster.Protocol;
using Farm.Cluster.Store;
using Farm.Cluster.Sweeps;

namespace Farm.Benchmarks.Cluster;

/// <summary>
/// <c>dotnet run --project tests/Farm.Benchmarks -c Release -- generate-results DB [TRIALS]</c>: a store
/// holding one done sweep of TRIALS trials (default 10,000: wrprotect × 2 policies × 2 vCPU counts
/// × TRIALS/4 seeds), for measuring the coordinator's heavy requests (docs/failure-behaviour.md).
/// Each of the four configurations runs once for real; its result is stored for every seed with
/// the seed's trial id and seed, so the set has real result sizes without running 10,000 trials.
/// </summary>
internal static class ResultSetGenerator
{
    public static int Generate(string db, int trials)
    {
        string workload = Path.Combine(FindRepo(), "workloads", "micro", "wrprotect.yaml");
        var spec = SweepSpec.Parse($"name: big\nworkload: {workload}\naxes:\n  policy: [kvm-3.1, kvm-3.3]\n  vm.vcpus: [1, 2]\nseeds: {trials / 4}\n",
            Path.GetDirectoryName(workload), maxTrials: trials); // a base directory: the parser reads workload files from disk only with one
        using var store = new ResultStore(db);
        store.SubmitSweep(spec);
        var worker = new WorkerId("generator");
        var templates = new Dictionary<string, string>();
        var byId = spec.Trials.ToDictionary(t => t.Id);
        foreach (var ticket in store.Dispatch(trials, worker))
        {
            var trial = byId[ticket.Id];
            string config = string.Join(' ', trial.Labels.Where(l => l.Key != "seed"));
            if (!templates.TryGetValue(config, out var template))
                templates[config] = template = TrialRunner.Run(trial.Spec).ToJson(indented: false);
            var result = JsonNode.Parse(template)!;
            result["trial"]!["id"] = trial.ConfigId;
            result["trial"]!["seed"] = trial.Seed;
            store.StoreResult(ticket.Id, result.ToJsonString());
        }
        Console.WriteLine($"{spec.Id} {trials} trials in {db}");
        return 0;
    }

    private static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Farm.sln"))) return dir.FullName;
        throw new InvalidOperationException("run from inside the repository");
    }
}
