using Farm.Simulation.Guest;

namespace Farm.Simulation.Workloads.Kernbench;

/// <summary>
/// Draws sizes and cycles: uniform in mean ± spread percent, in integer arithmetic only (no
/// floating-point library call whose last bit could differ between machines).
/// <para>
/// The size of a compile unit (which scales its cc1 and as) is drawn in antithetic pairs along a
/// Weyl sequence with a per-vCPU random phase: units 2j and 2j+1 get u and 1-u with
/// u = phase + j·φ mod 1. Each unit is still uniform, but a pair's mean is exactly the population
/// mean and the pairs are equidistributed, so that even a small-scale trial keeps the calibrated
/// totals.
/// </para>
/// <para>
/// Every other draw comes from a stream of its own unit (or of make, or of the link), derived
/// from the vCPU's stream by SplitMix64 keyed by the unit's index. The draws therefore do not
/// depend on the order in which the scheduler interleaves processes, which depends on MMU
/// costs: both presets run the same build (common random numbers), and a before/after
/// difference is the policies', not the dice's.
/// </para>
/// </summary>
public sealed class SizeSampler
{
    private const ulong Golden = 0x9E37_79B9_7F4A_7C15UL;
    private readonly ulong _phase, _units, _others;

    public SizeSampler(RandomStream vcpuStream, int spreadPct)
    {
        _phase = vcpuStream.Next();
        _units = vcpuStream.Next();
        _others = vcpuStream.Next();
        SpreadPct = spreadPct;
    }

    public int SpreadPct { get; }

    /// <summary>The size draw of the k-th unit of this vCPU.</summary>
    public uint UnitDraw(long k)
    {
        ulong u = _phase + (ulong)(k / 2) * Golden;
        return (uint)(((k & 1) == 0 ? u : ~u) >> 32);
    }

    /// <summary>The stream of the k-th unit of this vCPU: every process of the unit draws from it, in process order.</summary>
    public RandomStream UnitStream(long k) => new(_units, checked((int)k));

    /// <summary>make's own stream (its startup and each dispatch).</summary>
    public RandomStream MakeStream() => new(_others, 0);

    /// <summary>The link's stream.</summary>
    public RandomStream LinkStream() => new(_others, 1);

    /// <summary>mean ± spread% by the draw u (0 gives the low end, 2^32 the high end).</summary>
    public long Vary(long mean, uint u)
    {
        Int128 offset = (Int128)mean * SpreadPct * ((long)u * 2 - (1L << 32));
        return mean + (long)(offset / (100 * (Int128)(1L << 32)));
    }

    /// <summary>mean ± spread% drawn from <paramref name="stream"/>.</summary>
    public long Next(long mean, RandomStream stream) => Vary(mean, (uint)(stream.Next() >> 32));
}
