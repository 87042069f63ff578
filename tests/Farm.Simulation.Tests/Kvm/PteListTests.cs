using Farm.Simulation.Kvm;
using Xunit;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// pte_list_add and the per-vCPU pte_list_desc cache: mmu_topup_memory_cache,
/// mmu_memory_cache_alloc and rmap_can_add (mmu.c, the same in 3.1.10 and 3.3.8).
/// </summary>
public class PteListTests
{
    [Fact]
    public void Add_AllocatesADescAtTheSecondFifthAndNinthEntry()
    {
        var cache = new MemoryCache();
        cache.Topup(MmuConstants.DescCacheMin);
        var list = new PteList();
        var allocatedAt = new List<int>();
        for (int n = 1; n <= 13; n++)
        {
            int descs = 0;
            Assert.True(list.Add(n, cache, ref descs));
            if (descs > 0) allocatedAt.Add(n);
        }
        // The 1st entry is held inline; the 2nd needs a desc for both; a desc holds PTE_LIST_EXT = 4
        // entries, so the 5th, 9th and 13th each start a new one: 4 descs from the cache of 40.
        Assert.Equal(new[] { 2, 5, 9, 13 }, allocatedAt);
        Assert.Equal(4, list.DescCount);
        Assert.Equal(13, list.Count);
        Assert.Equal(MmuConstants.KVM_NR_MEM_OBJS - 4, cache.Objects);
    }

    [Fact]
    public void Add_FromAnEmptyCache_IsRefused()
    {
        var cache = new MemoryCache();
        var list = new PteList();
        int descs = 0;
        Assert.True(list.Add(1, cache, ref descs)); // inline: no desc needed
        Assert.False(list.Add(2, cache, ref descs)); // needs one: KVM's BUG_ON(!mc->nobjs)
        Assert.Equal(0, descs);
        Assert.Equal(1, list.Count);
    }

    [Fact]
    public void Topup_RefillsToFortyOnlyBelowTheMinimum()
    {
        var cache = new MemoryCache();
        // Empty: filled all the way to KVM_NR_MEM_OBJS.
        Assert.Equal(MmuConstants.KVM_NR_MEM_OBJS, cache.Topup(MmuConstants.DescCacheMin));
        // 40 - 24 = 16 left, exactly the minimum (8 + PTE_PREFETCH_NUM): nothing to do.
        for (int i = 0; i < 24; i++) Assert.True(cache.TryAlloc());
        Assert.Equal(0, cache.Topup(MmuConstants.DescCacheMin));
        // 15 left, below the minimum: refilled to 40 again, 25 objects.
        Assert.True(cache.TryAlloc());
        Assert.Equal(25, cache.Topup(MmuConstants.DescCacheMin));
        Assert.Equal(MmuConstants.KVM_NR_MEM_OBJS, cache.Objects);
    }

    [Fact]
    public void CanAdd_IsFalseOnlyWhenTheCacheIsEmpty()
    {
        var cache = new MemoryCache();
        Assert.False(cache.CanAdd);
        cache.Topup(1);
        for (int i = 0; i < MmuConstants.KVM_NR_MEM_OBJS - 1; i++) Assert.True(cache.TryAlloc());
        Assert.True(cache.CanAdd); // one object left
        Assert.True(cache.TryAlloc());
        Assert.False(cache.CanAdd);
    }
    [Fact]
    public void Remove_KeepsADescOfOne_SoGrowingBackToTwoAllocatesNothing()
    {
        var cache = new MemoryCache();
        cache.Topup(MmuConstants.DescCacheMin);
        var list = new PteList();
        int descs = 0;
        Assert.True(list.Add(1, cache, ref descs));
        Assert.True(list.Add(2, cache, ref descs)); // 1 -> many: the desc
        Assert.Equal(1, descs);
        // pte_list_desc_remove_entry only frees a desc it empties: one entry stays in the desc,
        // so the list does not return to the inline form and 1 -> 2 needs no second desc.
        list.Remove(1);
        Assert.Equal(1, list.DescCount);
        Assert.True(list.Add(3, cache, ref descs));
        Assert.Equal(1, descs);
        Assert.Equal(2, list.Count);
        // Emptying the desc frees it and empties the list; the next add is inline again.
        list.Remove(2);
        list.Remove(3);
        Assert.Equal(0, list.Count);
        Assert.Equal(0, list.DescCount);
        Assert.True(list.Add(4, cache, ref descs));
        Assert.Equal(1, descs);
        Assert.Equal(new long[] { 4 }, Entries(list));
    }

    [Fact]
    public void Remove_FillsTheHoleFromItsOwnDesc_AndAddFillsAnEarlierHoleBeforeAllocating()
    {
        var cache = new MemoryCache();
        cache.Topup(MmuConstants.DescCacheMin);
        var list = new PteList();
        int descs = 0;
        for (int n = 1; n <= 6; n++) Assert.True(list.Add(n, cache, ref descs));
        Assert.Equal(2, descs); // [1 2 3 4] -> [5 6]
        // The last entry of the first desc (4) fills the hole, not the chain's last entry (6).
        list.Remove(2);
        Assert.Equal(new long[] { 1, 4, 3, 5, 6 }, Entries(list));
        // pte_list_add walks past full descs only: the first desc has room, so 7 goes there.
        Assert.True(list.Add(7, cache, ref descs));
        Assert.Equal(2, descs);
        Assert.Equal(new long[] { 1, 4, 3, 7, 5, 6 }, Entries(list));
        // Emptying the second desc unlinks it; the first keeps its four entries.
        list.Remove(5);
        list.Remove(6);
        Assert.Equal(1, list.DescCount);
        Assert.Equal(new long[] { 1, 4, 3, 7 }, Entries(list));
        // Emptying the head desc of a chain makes the next desc the head.
        for (int n = 8; n <= 9; n++) Assert.True(list.Add(n, cache, ref descs));
        foreach (var e in new long[] { 1, 4, 3, 7 }) list.Remove(e);
        Assert.Equal(1, list.DescCount);
        Assert.Equal(new long[] { 8, 9 }, Entries(list));
    }

    [Fact]
    public void AddAndRemove_UnderRandomChurn_MatchTheKernelsDescChains()
    {
        // A reference pte_list kept the kernel's way (mmu.c 3.1.10:818-934): descs of up to
        // PTE_LIST_EXT entries; add walks from the head past full descs, counting PTE_LIST_EXT per
        // desc passed plus the entries of the desc it stops at; remove moves its desc's last entry
        // into the hole and unlinks an emptied desc. Random adds and removes on a list of up to
        // about 700 entries (well over 100 descs), with holes made in full descs far before the
        // end: before every add AddCount must give the kernel's count, and after every step the
        // list must hold the same entries in the same order in as many descs.
        Churn(around: 700, steps: 20_000, seed: 18);
    }

    [Fact]
    public void AddAndRemove_OnShortLists_MatchTheKernelsDescChains()
    {
        // The same on lists of about 0-10 entries: the inline entry, one desc (whose count the list
        // keeps beside its head, so an add need not read the desc), two or three descs, and back.
        Churn(around: 5, steps: 20_000, seed: 31);
    }

    private static void Churn(int around, int steps, int seed)
    {
        var cache = new MemoryCache(int.MaxValue);
        cache.Topup(1);
        var list = new PteList();
        var reference = new List<List<long>>();
        long? single = null;
        var live = new List<long>();
        var rng = new Random(seed);
        long next = 1;
        for (int step = 0; step < steps; step++)
        {
            bool add = live.Count == 0 || rng.Next(100) < (live.Count < around ? 60 : 40);
            if (add)
            {
                long e = next++;
                int expected = RefAdd(reference, ref single, e);
                Assert.Equal(expected, list.AddCount()); // what rmap_add takes just before the add
                int descs = 0;
                Assert.True(list.Add(e, cache, ref descs));
                live.Add(e);
            }
            else
            {
                int k = rng.Next(live.Count);
                long e = live[k];
                live.RemoveAt(k);
                RefRemove(reference, ref single, e);
                list.Remove(e);
            }
            var want = single is { } s1 ? new List<long> { s1 } : reference.SelectMany(d => d).ToList();
            Assert.Equal(want, Entries(list));
            Assert.Equal(single is null ? reference.Count : 0, list.DescCount);
        }
    }

    private static int RefAdd(List<List<long>> descs, ref long? single, long e)
    {
        if (descs.Count == 0 && single is null) { single = e; return 0; }
        if (single is { } s) { descs.Add([s, e]); single = null; return 1; }
        int count = 0, i = 0;
        while (descs[i].Count == MmuConstants.PTE_LIST_EXT && i + 1 < descs.Count) { i++; count += MmuConstants.PTE_LIST_EXT; }
        if (descs[i].Count == MmuConstants.PTE_LIST_EXT) descs.Insert(++i, []);
        count += descs[i].Count;
        descs[i].Add(e);
        return count;
    }

    private static void RefRemove(List<List<long>> descs, ref long? single, long e)
    {
        if (single == e) { single = null; return; }
        foreach (var d in descs)
        {
            int i = d.IndexOf(e);
            if (i < 0) continue;
            d[i] = d[^1];
            d.RemoveAt(d.Count - 1);
            if (d.Count == 0) descs.Remove(d);
            return;
        }
        throw new InvalidOperationException("not in the reference list");
    }

    private static long[] Entries(PteList list)
    {
        var into = new List<long>();
        list.CopyTo(into);
        return into.ToArray();
    }
}
