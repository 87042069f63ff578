using Farm.Simulation;
using Farm.Simulation.Config;
using Farm.Simulation.Engine;
using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Farm.Simulation.Results;
using Farm.Simulation.Workloads;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>Runs micro workloads, or scripts built from their phases, on the sequential engine.</summary>
internal static class MicroHarness
{
    public static TrialResult Run(string kind, params string[] sets)
    {
        var workload = WorkloadRegistry.Get(kind);
        var config = SimConfig.Resolve(Pairs(sets), workload.Keys);
        return Trial.RunSequential(new TrialSpec(kind, workload, config));
    }

    /// <summary>A VM built from --set style keys, with a script run on every vCPU.</summary>
    public static GuestVm RunScript(Func<GuestVcpu, ValueTask> script, params string[] sets)
    {
        var config = SimConfig.Resolve(Pairs(sets));
        var vm = new GuestVm(config, GuestFlavour.BuiltIn(config.Text("guest.flavour")));
        SequentialEngine.Run(vm, script);
        return vm;
    }

    public static IEnumerable<KeyValuePair<string, string>> Pairs(string[] sets) => KeyValueArgs.Parse(sets);

    /// <summary>A copy of the MMU counters, to measure one phase of a script.</summary>
    public static MmuStats Snapshot(ShadowMmu mmu)
    {
        var copy = new MmuStats();
        foreach (var f in typeof(MmuStats).GetFields()) f.SetValue(copy, f.GetValue(mmu.Stats));
        return copy;
    }

    public static long[] LockSnapshot(ShadowMmu mmu) => (long[])mmu.Lock.Acquisitions.Clone();

    /// <summary>Frames that are free in the guest but still have a valid non-leaf (or leaf) shadow page.</summary>
    public static int StaleShadowed(GuestVm vm, bool nonLeaf)
    {
        int n = 0;
        for (ulong g = 0; g < vm.Memory.FrameCount; g++)
        {
            if (vm.Frames.Use[g] != FrameUse.Free) continue;
            if (vm.Mmu.PagesOf(g).Any(sp => nonLeaf ? sp.Level > 1 : sp.Level == 1)) n++;
        }
        return n;
    }
}
