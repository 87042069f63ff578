namespace Farm.Simulation.Kvm;

public enum LockSite { PageFault, PteWrite, Unprotect, Cr3, Invlpg, Reclaim }

/// <summary>
/// kvm->mmu_lock as a FIFO ticket lock in virtual time: a request stamped t starts at
/// max(t, free_at); its hold is the work done under it times unit costs; start - t is wait.
/// </summary>
public sealed class MmuLock
{
    public const int SiteCount = 6;
    private long _freeAt;
    public readonly long[] Acquisitions = new long[SiteCount];
    public readonly long[] HoldCycles = new long[SiteCount];
    public readonly long[] WaitCycles = new long[SiteCount];
    public long Contended;
    // Exact wait distribution: wait in cycles to count. Most acquisitions do not wait, so those
    // are a plain counter rather than a histogram update on the pte_write path. Short waits (most
    // of the contended ones: another vCPU's pte_write or fault) are counted in an array indexed
    // by the wait, grown as needed up to DenseWaits; only longer ones go to a dictionary (a hash
    // lookup per contended acquisition was 1% of a kernbench run).
    private const int DenseWaits = 1 << 16;
    private long[] _shortWaits = [];
    private readonly Dictionary<long, long> _longWaits = [];
    private long _noWait;
    public long MaxWait { get; private set; }

    /// <summary>Exact wait distribution: wait in cycles to count (sorted only when read).</summary>
    public IReadOnlyDictionary<long, long> WaitHistogram
    {
        get
        {
            var all = new Dictionary<long, long>(_longWaits);
            for (int w = 1; w < _shortWaits.Length; w++)
                if (_shortWaits[w] != 0) all[w] = _shortWaits[w];
            if (_noWait > 0) all[0] = _noWait;
            return all;
        }
    }

    /// <summary>Acquires at <paramref name="stamp"/> for <paramref name="hold"/> cycles; returns the release time.</summary>
    public long Acquire(LockSite site, long stamp, long hold, out long wait)
    {
        long start = Math.Max(stamp, _freeAt);
        wait = start - stamp;
        _freeAt = start + hold;
        int s = (int)site;
        Acquisitions[s]++;
        HoldCycles[s] += hold;
        if (wait == 0)
        {
            _noWait++; // the common case (every pte_write of one vCPU): nothing else to record
        }
        else
        {
            WaitCycles[s] += wait;
            Contended++;
            if (wait > MaxWait) MaxWait = wait;
            if ((ulong)wait < (ulong)_shortWaits.Length) _shortWaits[wait]++;
            else CountWait(wait);
        }
        return start + hold;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void CountWait(long wait)
    {
        if (wait < DenseWaits)
        {
            Array.Resize(ref _shortWaits, (int)Math.Min(DenseWaits, Math.Max(2 * _shortWaits.Length, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)wait + 1))));
            _shortWaits[wait]++;
            return;
        }
        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_longWaits, wait, out _)++;
    }

    public long Percentile(double p)
    {
        var histogram = WaitHistogram;
        long total = histogram.Values.Sum();
        if (total == 0) return 0;
        long rank = (long)Math.Ceiling(p * total);
        long seen = 0;
        foreach (var (wait, count) in histogram.OrderBy(kv => kv.Key))
        {
            seen += count;
            if (seen >= rank) return wait;
        }
        return MaxWait;
    }
}
