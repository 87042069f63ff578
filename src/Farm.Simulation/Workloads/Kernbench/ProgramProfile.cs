namespace Farm.Simulation.Workloads.Kernbench;

/// <summary>
/// One program of the build: the binary it execs, mean pages of that binary touched, mean
/// anonymous/private pages written, mean compute, whether those scale with the unit's size, and
/// the children it forks and waits for, in order, after its own compute.
/// </summary>
public sealed record ProgramProfile(string Name, string Binary, long TextPages, long AnonPages, long Cycles,
    bool ScalesWithUnit, IReadOnlyList<ProgramProfile> Children)
{
    /// <summary>Processes this program and its descendants create (itself included).</summary>
    public int Processes => 1 + Children.Sum(c => c.Processes);

    /// <summary>Expected guest page faults of this process and its descendants, counting the
    /// parent's and the child's COW writes around each fork.</summary>
    public double ExpectedFaults(long libcPages, long childWrites, long parentWrites) =>
        libcPages + TextPages + AnonPages
        + Children.Sum(c => childWrites + parentWrites + c.ExpectedFaults(libcPages, childWrites, parentWrites));

    /// <summary>Expected compute of this process and its descendants.</summary>
    public double ExpectedCycles => Cycles + Children.Sum(c => c.ExpectedCycles);
}
