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
}
