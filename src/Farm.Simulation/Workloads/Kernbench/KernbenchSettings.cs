using Farm.Simulation.Config;

namespace Farm.Simulation.Workloads.Kernbench;

/// <summary>The kernbench parameters of one trial, resolved from its configuration.</summary>
public sealed class KernbenchSettings
{
    private KernbenchSettings(SimConfig c)
    {
        Vcpus = (int)c.Int("vm.vcpus");
        Jobs = (int)c.Int(KernbenchKeys.Jobs);
        Scale = c.Double(KernbenchKeys.Scale);
        Units = Math.Max(1, Scaled(c.Int(KernbenchKeys.Units)));
        Timeslice = c.Int(KernbenchKeys.Timeslice);
        SpreadPct = (int)c.Int(KernbenchKeys.Spread);
        Retouch = (int)c.Int(KernbenchKeys.Retouch);
        ChildWrites = (int)c.Int(KernbenchKeys.ChildWrites);
        ParentWrites = (int)c.Int(KernbenchKeys.ParentWrites);
        LibcPages = c.Int(KernbenchKeys.LibcPages);

        ProgramProfile P(string name, string binary, bool scales, params ProgramProfile[] children) =>
            new(name, binary, c.Int(KernbenchKeys.TextKey(name)), c.Int(KernbenchKeys.AnonKey(name)), c.Int(KernbenchKeys.CyclesKey(name)), scales, children);

        var gcc = P("gcc", "gcc", false, P("cc1", "cc1", true), P("as", "as", true));
        Unit = P("sh", "sh", false, gcc, P("helper", "fixdep", false), P("helper", "rm", false), P("helper", "mv", false));
        Make = P("make", "make", false);
        var ld = P("ld", "ld", false);
        Link = ld with { AnonPages = Math.Max(AddressLayout.FixedWrites, Scaled(ld.AnonPages)), Cycles = Scaled(ld.Cycles) };
    }

    private long Scaled(long value) => (long)Math.Round(value * Scale, MidpointRounding.AwayFromZero);

    public static KernbenchSettings From(SimConfig config) => new(config);

    public int Vcpus { get; }
    public int Jobs { get; }
    public double Scale { get; }
    /// <summary>Compile units of this trial: workload.units × workload.scale, at least one.</summary>
    public long Units { get; }
    public long Timeslice { get; }
    public int SpreadPct { get; }
    public int Retouch { get; }
    public int ChildWrites { get; }
    public int ParentWrites { get; }
    public long LibcPages { get; }

    /// <summary>What make forks per compile unit: the shell and everything below it.</summary>
    public ProgramProfile Unit { get; }
    public ProgramProfile Make { get; }
    /// <summary>The final link, forked by vCPU 0's make after its last unit; its input, and so its
    /// memory and compute, scale with the build.</summary>
    public ProgramProfile Link { get; }

    /// <summary>vCPUs that run units: no more than there are job slots.</summary>
    public int ActiveVcpus => Math.Min(Vcpus, Jobs);

    /// <summary>Job slots of vCPU <paramref name="id"/>: jobs shared as evenly as possible.</summary>
    public int Slots(int id) => id >= ActiveVcpus ? 0 : Jobs / ActiveVcpus + (id < Jobs % ActiveVcpus ? 1 : 0);

    /// <summary>Units of vCPU <paramref name="id"/>: units id, id+N, ... for N active vCPUs.</summary>
    public long UnitsOf(int id) => id >= ActiveVcpus ? 0 : (Units - id + ActiveVcpus - 1) / ActiveVcpus;

    /// <summary>Processes the trial should create, from the means: one make per vCPU, the units, the link.</summary>
    public double ExpectedProcesses => Vcpus + Units * Unit.Processes + Link.Processes;

    /// <summary>Guest page faults the trial should take, from the means of the distributions.</summary>
    public double ExpectedPageFaults =>
        Vcpus * (LibcPages + Make.TextPages + Make.AnonPages)
        + (Units + 1) * (ChildWrites + ParentWrites)
        + Units * Unit.ExpectedFaults(LibcPages, ChildWrites, ParentWrites)
        + Link.ExpectedFaults(LibcPages, ChildWrites, ParentWrites);

    /// <summary>User compute of the whole trial in guest cycles, from the means.</summary>
    public double ExpectedCycles => Vcpus * (double)Make.Cycles + Units * (Make.Cycles + Unit.ExpectedCycles) + Link.ExpectedCycles;
}
