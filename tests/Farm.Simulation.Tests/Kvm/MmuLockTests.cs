using Farm.Simulation.Kvm;
using Xunit;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// mmu_lock as a FIFO ticket lock in virtual time: each acquisition starts at max(stamp, the
/// previous release); the wait histogram and its percentiles are exact whatever the wait's size
/// (short waits are counted in an array, long ones in a dictionary).
/// </summary>
public class MmuLockTests
{
    [Fact]
    public void Acquire_StartsAtTheLaterOfStampAndRelease_AndCountsTheWait()
    {
        var l = new MmuLock();
        Assert.Equal(140, l.Acquire(LockSite.PteWrite, 100, 40, out long w1)); // free: starts at 100
        Assert.Equal(0, w1);
        Assert.Equal(180, l.Acquire(LockSite.PageFault, 120, 40, out long w2)); // waits for 140
        Assert.Equal(20, w2);
        Assert.Equal(1, l.Contended);
        Assert.Equal(20, l.WaitCycles[(int)LockSite.PageFault]);
        Assert.Equal(new Dictionary<long, long> { [0] = 1, [20] = 1 }, l.WaitHistogram);
    }

    [Fact]
    public void WaitHistogram_OfShortAndLongWaits_MatchesAPlainCount()
    {
        var l = new MmuLock();
        var expected = new Dictionary<long, long>();
        var random = new Random(7);
        long stamp = 0;
        for (int i = 0; i < 20_000; i++)
        {
            // Waits from 0 to about 2^20 cycles: both sides of the array's 2^16 bound, growing it
            // several times. A wait w comes from a stamp w cycles before the lock's release.
            long wait = random.Next(4) switch { 0 => 0, 1 => random.Next(1, 300), 2 => random.Next(1, 70_000), _ => random.Next(1, 1 << 20) };
            long release = l.Acquire(LockSite.PteWrite, stamp, 0, out _); // hold 0: the lock is free at `stamp`
            l.Acquire(LockSite.PteWrite, release - wait, wait, out long got);
            Assert.Equal(wait, got);
            expected[wait] = expected.GetValueOrDefault(wait) + 1;
            expected[0] = expected.GetValueOrDefault(0) + 1; // the first acquisition of the pair
            stamp = release + wait + 1;
        }
        Assert.Equal(expected.OrderBy(kv => kv.Key), l.WaitHistogram.OrderBy(kv => kv.Key));
        Assert.Equal(expected.Keys.Max(), l.MaxWait);
        foreach (double p in new[] { 0.5, 0.9, 0.99 })
        {
            long rank = (long)Math.Ceiling(p * expected.Values.Sum()), seen = 0, at = -1;
            foreach (var (wait, count) in expected.OrderBy(kv => kv.Key))
                if ((seen += count) >= rank) { at = wait; break; }
            Assert.Equal(at, l.Percentile(p));
        }
    }
}
