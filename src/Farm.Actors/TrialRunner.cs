using Farm.Actors.Engine;
using Farm.Simulation;
using Farm.Simulation.Results;

namespace Farm.Actors;

/// <summary>Runs a trial on the engine its configuration names (engine = actors | sequential).</summary>
public static class TrialRunner
{
    public static TrialResult Run(TrialSpec spec)
    {
        if (spec.Config.Text("engine") == "sequential") return Trial.RunSequential(spec);
        return Trial.Run(spec, vm => ActorEngine.Run(ActorEngine.LocalSystem, vm, v => spec.Workload.RunVcpu(v, spec.Config)));
    }
}
