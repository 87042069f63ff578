using Farm.Simulation.X86;

namespace Farm.Simulation.Kvm;

/// <summary>
/// Per-vCPU KVM state (struct kvm_vcpu_arch's MMU part): memory caches, the 3.1 fork
/// detector, the 3.3 last-retry pair, the current root. It is only touched while its vCPU
/// is waiting for the MMU's reply, so owning it here keeps both engines deterministic.
/// </summary>
public sealed class KvmVcpu(int id, Interpreter interpreter)
{
    public int Id { get; } = id;
    public Interpreter Interpreter { get; } = interpreter;
    public MemoryCache DescCache { get; } = new();

    // 3.1 fork detector (last_pte_updated, last_pte_gfn, last_pt_write_gfn, last_pt_write_count).
    public long LastPteUpdated = -1;
    public ulong LastPteGfn;
    public ulong LastPtWriteGfn = ulong.MaxValue;
    public int LastPtWriteCount;

    // 3.3 retry_instruction memory.
    public ulong LastRetryEip = ulong.MaxValue, LastRetryAddr = ulong.MaxValue;

    /// <summary>Root shadow page ids (1 for x86-64; 4 PAE roots for a 32-bit guest, -1 for a PAE
    /// guest's PDPTE that is not present: pae_root[i] = 0).</summary>
    public int[] Roots = [];
    public ulong Cr3;
    /// <summary>PAE guest: the PDPTEs load_pdptrs read at the last CR3 load (mmu->pdptrs).</summary>
    public readonly ulong[] Pdptrs = new ulong[Guest.PagingMode.PdptEntries];

    /// <summary>A remote TLB flush is owed to this vCPU: its translation view must be dropped.</summary>
    public bool ViewFlushPending;

    // make_all_cpus_request: is this vCPU in guest mode at a given time? It entered the guest at
    // GuestSince (its last reply, or the end of a forced exit; long.MaxValue while a multi-step
    // request keeps it in the host) and stays there until its next request, or for good once halted.
    public long GuestSince;
    public bool Halted;
    /// <summary>KVM_REQ_MMU_RELOAD is pending: unload and reload the roots before the next entry.</summary>
    public bool ReloadPending;
    /// <summary>KVM_REQ_MMU_SYNC is pending: sync the roots before the next entry. A request raised
    /// while a CR3 write's roots are loaded (kvm_mmu_load runs at entry, after the requests are
    /// checked) waits for the entry after the next exit: <see cref="SyncDeferred"/>.</summary>
    public bool SyncPending, SyncDeferred;
    /// <summary>Forced-exit time not yet added to this vCPU's clock (added when its next request is served).</summary>
    public long OwedCycles;

    // Per-vCPU figures for the result.
    public long Exits, LockWaitCycles, IpiExits;
}
