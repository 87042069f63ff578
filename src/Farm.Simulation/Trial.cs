using System.Diagnostics;
using Farm.Simulation.Config;
using Farm.Simulation.Engine;
using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Farm.Simulation.Results;
using Farm.Simulation.Workloads;

namespace Farm.Simulation;

/// <summary>A trial: a workload, a fully resolved configuration (seed included) and routine overrides.</summary>
public sealed record TrialSpec(string WorkloadName, IWorkload Workload, SimConfig Config, IReadOnlyDictionary<KernelOp, GuestRoutine>? Routines = null)
{
    public GuestFlavour Flavour()
    {
        var flavour = GuestFlavour.BuiltIn(Config.Text("guest.flavour"));
        return Routines is { Count: > 0 } ? flavour.With(Routines) : flavour;
    }
}

public static class Trial
{
    /// <summary>Runs a trial on the sequential engine. Model failures become outcomes, never crashes.</summary>
    public static TrialResult RunSequential(TrialSpec spec) =>
        Run(spec, vm => SequentialEngine.Run(vm, v => spec.Workload.RunVcpu(v, spec.Config)));

    /// <summary>Builds the VM and runs it with <paramref name="engine"/>, which returns the event count.</summary>
    public static TrialResult Run(TrialSpec spec, Func<GuestVm, long> engine) =>
        RunAsync(spec, vm => Task.FromResult(engine(vm))).GetAwaiter().GetResult();

    /// <summary>As <see cref="Run"/>, for engines that finish asynchronously (actors on a cluster node).</summary>
    public static async Task<TrialResult> RunAsync(TrialSpec spec, Func<GuestVm, Task<long>> engine)
    {
        var watch = Stopwatch.StartNew();
        GuestVm? vm = null;
        long events = 0;
        var outcome = Outcome.Completed;
        string? error = null;
        try
        {
            vm = new GuestVm(spec.Config, spec.Flavour(), spec.Workload.Files(spec.Config));
            events = await engine(vm);
        }
        catch (HostBugException e)
        {
            outcome = Outcome.HostBug;
            error = e.Message;
        }
        catch (Exception e) when (e is ModelException or ConfigException or InvalidOperationException or ArgumentException)
        {
            outcome = Outcome.Error;
            error = e.Message;
        }
        return ResultBuilder.Build(spec.WorkloadName, spec.Config, vm, outcome, error, watch.Elapsed.TotalSeconds, events);
    }
}
