using System.Runtime.CompilerServices;

namespace Farm.Simulation.Kvm;

/// <summary>struct kvm_mmu_page: one shadow page table and its bookkeeping.</summary>
public sealed class ShadowPage(int id, ulong gfn, MmuRole role)
{
    public int Id { get; } = id;
    public ulong Gfn { get; } = gfn;
    // A field behind Role so that IsValid and Level, read for every page of a hash bucket on
    // each kvm_mmu_pte_write, inline to one load instead of a copy of the whole role.
    private MmuRole _role = role;
    public MmuRole Role { get => _role; set => _role = value; }
    /// <summary>spt: the 512 sptes, held inline in the page object (one load less per level of
    /// every shadow walk than a separate array).</summary>
    public SptArray Spt;
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

    public int Level => _role.Level;
    public bool IsValid => !_role.Invalid;
    /// <summary>role.direct: a page of the guest's direct map or of tdp, never write-protected.</summary>
    public bool IsDirect => _role.Direct;
}

/// <summary>kvm_mmu_page.spt: one page of sptes.</summary>
[InlineArray(MmuConstants.SptesPerPage)]
public struct SptArray
{
    private ulong _element;
}
