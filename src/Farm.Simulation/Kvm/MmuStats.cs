namespace Farm.Simulation.Kvm;

/// <summary>Every counter the model bumps; names follow RESULTS.md (snake_case there).</summary>
public sealed class MmuStats
{
    // exits
    public long ExitsPageFault, ExitsWriteProtect, ExitsCr3, ExitsInvlpg;
    /// <summary>Forced exits: other vCPUs kicked out of guest mode by make_all_cpus_request.</summary>
    public long ExitsIpi;
    /// <summary>Policy tdp: EPT violations (tdp_page_fault calls), and two-dimensional walks on guest TLB misses.</summary>
    public long ExitsEptViolation, TdpWalks;
    // emulation
    public long EmulatedInstructions, EmulatedElements, Retried;
    // pte_write
    public long PteWriteCalls, PteWriteBytes1, PteWriteBytes4, PteWriteBytes8, PteWriteBytesOther, PteWriteMisaligned,
        SptesUpdated, PteWritePrefetched, PrefetchSkipped;
    // zap
    public long ZapPages, ZapMisaligned, ZapFlooded, ZapUnprotect, ZapReclaim, ZapSync, ZapOther;
    /// <summary>Of the zapped pages, valid ones a vCPU was using as a root (any reason).</summary>
    public long ZapRootsInUse;
    // flooding ground truth
    public long ZapsPageDead, ZapsPageLive, EmulationsOnDeadPages;
    // desc cache
    public long DescAllocations, Topups, Exhausted;
    // shadow
    public long ShadowFaults, PagesCreated, ShadowPrefetched, Unsync, Resync;
    /// <summary>kvm_flush_remote_tlbs calls that sent an IPI (KVM's remote_tlb_flush stat; shadow.remote_flushes).</summary>
    public long RemoteFlushes;
    /// <summary>Every kvm_flush_remote_tlbs call, IPI or not (model-internal, not a result field).</summary>
    public long RemoteFlushCalls;
    /// <summary>rmap_recycle calls (an rmap grew past RMAP_RECYCLE_THRESHOLD; model-internal, not a result field).</summary>
    public long RmapRecycles;
    /// <summary>vm.direct_map: sptes: shadow faults on the guest kernel's direct map, and the direct shadow pages
    /// created for it (model-internal, not result fields; both are also in shadow_faults / pages_created).</summary>
    public long KernelFaults, DirectPagesCreated;
}

/// <summary>The policy switches of DESIGN.md, resolved from the configuration.</summary>
public sealed record MmuPolicy(
    bool TopupOnPteWrite,
    bool RetryNonPtWrites,
    bool AllowLowByteWrite,
    bool WriteCountFloodDetector,
    int FloodThreshold,
    bool InvlpgDirect,
    bool Prefetch,
    bool Unsync,
    int PagesMax,
    bool ContinueAfterBug,
    bool Tdp = false)
{
    public static MmuPolicy From(Config.SimConfig c, ulong guestPages)
    {
        long pagesMax = c.Int("mmu.pages_max");
        if (pagesMax == 0)
            pagesMax = Math.Max(MmuConstants.KVM_MIN_ALLOC_MMU_PAGES, (long)(guestPages * MmuConstants.KVM_PERMILLE_MMU_PAGES / 1000));
        return new MmuPolicy(
            c.Bool("mmu.topup_on_pte_write"),
            c.Bool("mmu.retry_non_pt_writes"),
            c.Bool("mmu.allow_low_byte_write"),
            c.Text("mmu.flood_detector") == "write-count",
            (int)c.Int("mmu.flood_threshold"),
            c.Bool("mmu.invlpg_direct"),
            c.Bool("mmu.prefetch"),
            c.Bool("mmu.unsync"),
            (int)pagesMax,
            c.Bool("mmu.continue_after_bug"),
            c.Text("policy") == "tdp");
    }
}
