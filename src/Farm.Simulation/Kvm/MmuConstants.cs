namespace Farm.Simulation.Kvm;

/// <summary>Constants of arch/x86/kvm/mmu.c (3.1 and 3.3 alike), see KVM-MODEL.md.</summary>
public static class MmuConstants
{
    public const int PTE_PREFETCH_NUM = 8;
    public const int PTE_LIST_EXT = 4;
    public const int KVM_NR_MEM_OBJS = 40;
    public const int DescCacheMin = 8 + PTE_PREFETCH_NUM;
    public const int PageCacheMin = 8;
    public const int HeaderCacheMin = 4;
    public const int KVM_NUM_MMU_PAGES = 1024;
    public const int KVM_MIN_FREE_MMU_PAGES = 5;
    public const int KVM_REFILL_PAGES = 25;
    public const int KVM_PERMILLE_MMU_PAGES = 20;
    public const int KVM_MIN_ALLOC_MMU_PAGES = 64;
    public const int SptesPerPage = 512;
    /// <summary>mmu_set_spte recycles an rmap whose pte_list_add count exceeds this.</summary>
    public const int RMAP_RECYCLE_THRESHOLD = 1000;
    /// <summary>Pages per mmu_sync_children batch (struct kvm_mmu_pages).</summary>
    public const int KVM_PAGE_ARRAY_NR = 16;
    /// <summary>kvm_page_table_hashfn: gfn modulo the bucket count.</summary>
    public static int HashFn(ulong gfn) => (int)(gfn & (KVM_NUM_MMU_PAGES - 1));
}
