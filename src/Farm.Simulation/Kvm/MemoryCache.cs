namespace Farm.Simulation.Kvm;

/// <summary>
/// struct kvm_mmu_memory_cache for pte_list_desc objects: a per-vCPU stock of preallocated
/// objects, refilled to KVM_NR_MEM_OBJS by a topup when below its minimum. Freed descs go
/// back to the slab, not to this cache, as in KVM.
/// </summary>
public sealed class MemoryCache(int capacity = MmuConstants.KVM_NR_MEM_OBJS)
{
    public int Capacity { get; } = capacity;
    public int Objects { get; private set; } = 0;
    public long Allocations { get; private set; }

    /// <summary>mmu_topup_memory_cache: returns the number of objects allocated.</summary>
    public int Topup(int min)
    {
        if (Objects >= min) return 0;
        int added = Capacity - Objects;
        Objects = Capacity;
        return added;
    }

    /// <summary>mmu_memory_cache_alloc; false is KVM's BUG_ON(!mc->nobjs).</summary>
    public bool TryAlloc()
    {
        if (Objects == 0) return false;
        Objects--;
        Allocations++;
        return true;
    }

    /// <summary>rmap_can_add (3.3): is a free desc left?</summary>
    public bool CanAdd => Objects > 0;
}
