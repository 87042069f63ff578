namespace Farm.Simulation.Kvm;

/// <summary>struct kvm_mmu_page: one shadow page table and its bookkeeping.</summary>
public sealed class ShadowPage(int id, ulong gfn, MmuRole role)
{
    public int Id { get; } = id;
    public ulong Gfn { get; } = gfn;
    public MmuRole Role { get; set; } = role;
    public readonly ulong[] Spt = new ulong[MmuConstants.SptesPerPage];
    public PteList ParentPtes;
    public bool Unsync;
    public int RootCount;
    /// <summary>3.3: writes seen since a page-fault walk last used this page.</summary>
    public int WriteFloodingCount;
    /// <summary>unsync_child_bitmap / unsync_children: which sptes lead to unsync leaves.</summary>
    public readonly ulong[] UnsyncChildBitmap = new ulong[MmuConstants.SptesPerPage / 64];
    public int UnsyncChildren;
    /// <summary>Position in active_mmu_pages (creation order; reclaim takes the oldest).</summary>
    public long ActiveSeq;
    /// <summary>vCPUs whose translation views pass through this page (model bookkeeping for
    /// delivering remote TLB flushes; not a KVM field).</summary>
    public ulong ViewHolders;

    public int Level => Role.Level;
    public bool IsValid => !Role.Invalid;
}
