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
    /// <summary>Exact wait distribution: wait in cycles to count (sorted only when read).</summary>
    public readonly Dictionary<long, long> WaitHistogram = [];
    public long MaxWait { get; private set; }

    /// <summary>Acquires at <paramref name="stamp"/> for <paramref name="hold"/> cycles; returns the release time.</summary>
    public long Acquire(LockSite site, long stamp, long hold, out long wait)
    {
        long start = Math.Max(stamp, _freeAt);
        wait = start - stamp;
        _freeAt = start + hold;
        int s = (int)site;
        Acquisitions[s]++;
        HoldCycles[s] += hold;
        WaitCycles[s] += wait;
        if (wait > 0) Contended++;
        if (wait > MaxWait) MaxWait = wait;
        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(WaitHistogram, wait, out _)++;
        return start + hold;
    }

    public long Percentile(double p)
    {
        long total = WaitHistogram.Values.Sum();
        if (total == 0) return 0;
        long rank = (long)Math.Ceiling(p * total);
        long seen = 0;
        foreach (var (wait, count) in WaitHistogram.OrderBy(kv => kv.Key))
        {
            seen += count;
            if (seen >= rank) return wait;
        }
        return MaxWait;
    }
}
