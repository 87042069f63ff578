using Farm.Simulation;
using Farm.Simulation.Config;
using Farm.Simulation.Results;
using Farm.Simulation.Workloads;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>Runs a micro workload with --set style overrides on the sequential engine.</summary>
internal static class MicroHarness
{
    public static TrialResult Run(string kind, params string[] sets)
    {
        var workload = WorkloadRegistry.Get(kind);
        var pairs = sets.Select(s => s.Split('=', 2)).Select(p => KeyValuePair.Create(p[0], p[1]));
        var config = SimConfig.Resolve(pairs, workload.Keys);
        return Trial.RunSequential(new TrialSpec(kind, workload, config));
    }
}
