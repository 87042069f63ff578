namespace Farm.Simulation.Guest;

/// <summary>The guest kernel's own counters (RESULTS.md "guest").</summary>
public sealed class GuestStats
{
    public long Processes, Forks, Execs, PageFaults, PtPagesAllocated, PtPagesFreed, ContextSwitches;

    public void Add(GuestStats o)
    {
        Processes += o.Processes; Forks += o.Forks; Execs += o.Execs; PageFaults += o.PageFaults;
        PtPagesAllocated += o.PtPagesAllocated; PtPagesFreed += o.PtPagesFreed; ContextSwitches += o.ContextSwitches;
    }
}

/// <summary>SplitMix64: the per-vCPU random stream keyed by (seed, vcpu id); never shared.</summary>
public sealed class RandomStream(ulong seed, int vcpu)
{
    private ulong _state = seed * 0x9E3779B97F4A7C15UL ^ ((ulong)vcpu + 1) * 0xD1B54A32D192ED03UL;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n).</summary>
    public long Below(long n) => n <= 1 ? 0 : (long)(Next() % (ulong)n);
}
