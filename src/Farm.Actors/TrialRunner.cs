using Farm.Actors.Engine;
using Farm.Simulation;
using Farm.Simulation.Results;

namespace Farm.Actors;

/// <summary>Runs a trial on the engine its configuration names (engine = actors | sequential).</summary>
public static class TrialRunner
{
    /// <summary>Runs a trial without blocking: the actor engine runs in <paramref name="system"/>.</summary>
    public static Task<TrialResult> RunAsync(TrialSpec spec, Akka.Actor.ActorSystem system)
    {
        if (spec.Config.Text("engine") == "sequential") return Task.Run(() => Trial.RunSequential(spec));
        return Trial.RunAsync(spec, vm => ActorEngine.RunAsync(system, vm, v => spec.Workload.RunVcpu(v, spec.Config)));
    }

    public static TrialResult Run(TrialSpec spec)
    {
        if (spec.Config.Text("engine") == "sequential") return Trial.RunSequential(spec);
        return Trial.Run(spec, vm => ActorEngine.Run(ActorEngine.LocalSystem, vm, v => spec.Workload.RunVcpu(v, spec.Config)));
    }
}
