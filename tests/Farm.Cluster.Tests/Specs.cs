using Farm.Cluster.Sweeps;

namespace Farm.Cluster.Tests;

/// <summary>Small sweeps over the repository's micro workloads, for tests.</summary>
internal static class Specs
{
    /// <summary>pt-clear under both policies, two seeds: 4 trials.</summary>
    public const string Small = """
        name: small
        workload: ../micro/pt-clear.yaml
        axes:
          policy: [kvm-3.1, kvm-3.3]
        seeds: 2
        """;

    public static SweepSpec Parse(string text, int maxTrials = SweepSpec.DefaultMaxTrials) =>
        SweepSpec.Parse(text, RepoPaths.Sweeps, maxTrials, "test.yaml");

    /// <summary>A result JSON shaped enough for the store: it checks trial.id against the trial's configuration id.</summary>
    public static string FakeResult(SweepTrial trial, string marker = "") =>
        $$"""{"trial":{"id":"{{trial.ConfigId}}","workload":"{{trial.Workload.Name}}"},"outcome":"completed","marker":"{{marker}}"}""";
}
