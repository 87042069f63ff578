using Farm.Simulation.Guest;
using Farm.Simulation.X86;

namespace Farm.Simulation.Kvm;

/// <summary>A BUG_ON the real host would hit (the desc cache ran dry). Ends the trial as host-bug.</summary>
public sealed class HostBugException(string message) : Exception(message);

/// <summary>
/// The VM's shadow MMU (struct kvm_arch's MMU part): the shadow-page hash, shadow pages and
/// their sptes, rmaps and parent lists with real pte_list_desc accounting, write protection,
/// unsync state, the page budget and reclaim, and mmu_lock. One instance per VM; every
/// method runs on behalf of one waiting vCPU (<see cref="KvmVcpu"/>). Split by concern:
/// ShadowMmu.*.cs.
/// </summary>
public sealed partial class ShadowMmu
{
    private readonly GuestMemory _memory;
    private readonly PagingMode _mode;
    private readonly MmuPolicy _policy;
    private readonly CostModel _cost;
    private readonly List<ShadowPage>[] _hash = new List<ShadowPage>[MmuConstants.KVM_NUM_MMU_PAGES];
    private readonly List<ShadowPage?> _pages = [];
    private readonly Stack<int> _freeIds = new();
    private readonly PteList[] _rmap;
    private readonly int[] _writeCount;            // account_shadowed: valid indirect shadow pages per gfn
    private readonly bool[]? _kernelMapWritable;   // vm.direct_map: bit: the guest kernel's direct-map spte of each frame
    private readonly SortedSet<(long Seq, int Id)> _active = [];
    private readonly Func<ulong, bool> _isLivePageTable;
    private readonly List<ShadowPage> _invalidList = [];
    private long _activeSeq;
    private int _usedPages;
    private long _indirectShadowPages;

    public ShadowMmu(GuestMemory memory, PagingMode mode, MmuPolicy policy, CostModel cost, KvmVcpu[] vcpus, Func<ulong, bool> isLivePageTable,
        KernelDirectMap? directMap = null)
    {
        _memory = memory;
        _mode = mode;
        _policy = policy;
        _cost = cost;
        Vcpus = vcpus;
        _isLivePageTable = isLivePageTable;
        for (int i = 0; i < _hash.Length; i++) _hash[i] = [];
        _rmap = new PteList[memory.FrameCount];
        _writeCount = new int[memory.FrameCount];
        _directMap = directMap;
        if (directMap is null)
        {
            _kernelMapWritable = new bool[memory.FrameCount];
            Array.Fill(_kernelMapWritable, true);
        }
    }

    public MmuStats Stats { get; } = new();
    public MmuLock Lock { get; } = new();
    public KvmVcpu[] Vcpus { get; }
    public MmuPolicy Policy => _policy;
    public int UsedPages => _usedPages;
    public long IndirectShadowPages => _indirectShadowPages;

    /// <summary>The vCPU gate: may the guest kernel write this frame natively? Under tdp, whether EPT
    /// maps it; under vm.direct_map: bit, the frame's one bit; under sptes, whether the frame's
    /// direct-map spte is writable through any root.</summary>
    public bool KernelMapWritable(ulong gfn) => _policy.Tdp ? TdpMapped(gfn) : _kernelMapWritable?[gfn] ?? DirectMapSpteWritable(gfn);

    /// <summary>The gate of vCPU <paramref name="v"/>: under tdp, is the frame mapped under the root it runs on.</summary>
    public bool KernelMapWritable(ulong gfn, KvmVcpu v) => _policy.Tdp ? TdpTranslate(v, gfn, holdView: false) : KernelMapWritable(gfn);

    public ShadowPage Page(int id) => _pages[id] ?? throw new InvalidOperationException($"shadow page {id} was freed");

    /// <summary>Valid indirect shadow pages of a gfn (for tests and the ground-truth figures).</summary>
    public IEnumerable<ShadowPage> PagesOf(ulong gfn) =>
        _hash[MmuConstants.HashFn(gfn)].Where(sp => sp.Gfn == gfn && sp.IsValid && !sp.Role.Direct);

    public int RmapCount(ulong gfn) => _rmap[gfn].Count;

    private MmuRole BaseRole(int level, int access, int quadrant) =>
        new(level, _mode.Cr4Pae, quadrant, Direct: false, access, Invalid: false);

    // ---- kvm_mmu_get_page ----

    /// <summary>
    /// kvm_mmu_get_page for an indirect page: a hash hit with the exact role is reused (its
    /// flooding count reset in 3.3); otherwise a new page write-protects its gfn, syncs unsync
    /// leaves of that gfn if it is not a leaf itself, and is accounted as shadowed.
    /// </summary>
    private ShadowPage GetPage(KvmVcpu v, ulong gfn, ulong gaddr, int level, int access, long parentPte, ref LockWork work)
    {
        var role = BaseRole(level, access, _mode.Quadrant(gaddr, level));
        var bucket = _hash[MmuConstants.HashFn(gfn)];
        bool needSync = false;
        for (int i = 0; i < bucket.Count; i++)
        {
            var sp = bucket[i];
            work.Buckets++;
            if (sp.Gfn != gfn || !sp.IsValid || sp.IsDirect) continue;
            if (!needSync && sp.Unsync) needSync = true;
            if (sp.Role != role) continue;
            if (sp.Unsync && KvmSyncPage(v, sp, clearUnsync: false, ref work))
            {
                CommitZapPage(ref work); // kvm_sync_page_transient left it empty: zapped, a new page follows
                break;
            }
            if (parentPte >= 0) AddParentPte(v, sp, parentPte);
            if (sp.UnsyncChildren > 0)
            {
                v.SyncPending = true; // kvm_make_request(KVM_REQ_MMU_SYNC)
                MarkParentsUnsync(sp);
            }
            else if (sp.Unsync) MarkParentsUnsync(sp);
            if (_policy.WriteCountFloodDetector) sp.WriteFloodingCount = 0;
            return sp;
        }

        var page = AllocPage(gfn, role);
        if (parentPte >= 0) AddParentPte(v, page, parentPte);
        Stats.PagesCreated++;
        if (RmapWriteProtect(v, gfn, ref work)) FlushRemoteTlbs(ref work);
        if (level > 1 && needSync) SyncPages(v, gfn, ref work);
        AccountShadowed(v, gfn);
        return page;
    }

    private ShadowPage AllocPage(ulong gfn, MmuRole role)
    {
        int id = _freeIds.Count > 0 ? _freeIds.Pop() : _pages.Count;
        var sp = new ShadowPage(id, gfn, role) { ActiveSeq = ++_activeSeq };
        if (id == _pages.Count) _pages.Add(sp);
        else _pages[id] = sp;
        _hash[MmuConstants.HashFn(gfn)].Add(sp);
        _active.Add((sp.ActiveSeq, id));
        _usedPages++;
        return sp;
    }

    private void AccountShadowed(KvmVcpu v, ulong gfn)
    {
        _writeCount[gfn]++;
        _indirectShadowPages++;
    }

    private void UnaccountShadowed(ulong gfn)
    {
        _writeCount[gfn]--;
        _indirectShadowPages--;
    }

    // ---- rmap and parent lists (pte_list_add / pte_list_remove) ----

    private void AddParentPte(KvmVcpu v, ShadowPage sp, long parentPte)
    {
        int descs = 0;
        bool ok = sp.ParentPtes.Add(parentPte, v.DescCache, ref descs);
        AfterDescAlloc(ok, descs, ref sp.ParentPtes, parentPte, v);
    }

    /// <summary>rmap_add; returns pte_list_add's count (mmu_set_spte recycles above RMAP_RECYCLE_THRESHOLD).</summary>
    private int RmapAdd(KvmVcpu v, long sptep, ulong gfn, ref LockWork work)
    {
        int descs = 0;
        work.RmapOps++;
        int count = _rmap[gfn].AddCount();
        bool ok = _rmap[gfn].Add(sptep, v.DescCache, ref descs);
        AfterDescAlloc(ok, descs, ref _rmap[gfn], sptep, v);
        return count;
    }

    /// <summary>rmap_recycle: kvm_unmap_rmapp drops every spte of the gfn (the one just set too), then a remote flush.</summary>
    private void RmapRecycle(ulong gfn, ref LockWork work)
    {
        Stats.RmapRecycles++;
        var sptes = new List<long>(_rmap[gfn].Count);
        _rmap[gfn].CopyTo(sptes);
        foreach (var r in sptes) ZapPte(Page(Spte.RefPage(r)), Spte.RefIndex(r), ref work);
        FlushRemoteTlbs(ref work);
    }

    /// <summary>mmu_memory_cache_alloc's BUG_ON: fatal, unless mmu.continue_after_bug counts it and allocates anyway.</summary>
    private void AfterDescAlloc(bool ok, int descs, ref PteList list, long sptep, KvmVcpu v)
    {
        Stats.DescAllocations += descs;
        if (ok) return;
        Stats.Exhausted++;
        if (!_policy.ContinueAfterBug)
            throw new HostBugException($"BUG_ON in mmu_memory_cache_alloc: vCPU {v.Id}'s pte_list_desc cache is empty (kvm_mmu_pte_write prefetch)");
        // Continue as if the slab had given one: the real host would have crashed here.
        v.DescCache.Topup(1);
        int extra = 0;
        list.Add(sptep, v.DescCache, ref extra);
        Stats.DescAllocations += extra;
    }

    private void RmapRemove(long sptep, ulong gfn, ref LockWork work)
    {
        work.RmapOps++;
        _rmap[gfn].Remove(sptep);
    }

    /// <summary>rmap_write_protect: drop write access from every spte mapping gfn (and from the
    /// guest kernel's direct map). True when a writable spte was changed (a flush is owed).</summary>
    private bool RmapWriteProtect(KvmVcpu v, ulong gfn, ref LockWork work)
    {
        bool flush = false;
        if (_kernelMapWritable is not null && _kernelMapWritable[gfn])
        {
            _kernelMapWritable[gfn] = false;
            flush = true;
        }
        if (_rmap[gfn].Count == 0) return flush;
        var sptes = new List<long>(_rmap[gfn].Count);
        _rmap[gfn].CopyTo(sptes);
        foreach (var r in sptes)
        {
            var sp = Page(Spte.RefPage(r));
            ref ulong spte = ref sp.Spt[Spte.RefIndex(r)];
            work.RmapOps++;
            if (Spte.IsWritable(spte))
            {
                spte &= ~Spte.Writable;
                NotifyViewHolders(sp);
                flush = true;
            }
        }
        return flush;
    }

    // ---- dropping sptes ----

    /// <summary>mmu_page_zap_pte: clears one spte; a leaf leaves the rmap (drop_spte), a link leaves
    /// the child's parent list (drop_parent_pte). Returns true if a present spte was dropped. The
    /// page's unsync_child_bitmap bit for the index stays set, as in KVM (3.1.10 mmu.c:1001-1005,
    /// 1308-1313, 1799-1818; 3.3.8 mmu.c:1008-1012, 1321-1326, 1832-1855): a later unsync walk finds
    /// the spte gone and clears it (__mmu_unsync_walk); until then unsync_children counts it.</summary>
    private bool ZapPte(ShadowPage sp, int index, ref LockWork work)
    {
        ulong spte = sp.Spt[index];
        if (!Spte.IsPresent(spte)) return false;
        long self = Spte.Ref(sp.Id, index);
        if (Spte.IsLeaf(spte))
        {
            RmapRemove(self, Spte.Target(spte), ref work);
        }
        else
        {
            var child = Page((int)Spte.Target(spte));
            child.ParentPtes.Remove(self);
            work.RmapOps++;
        }
        sp.Spt[index] = 0;
        work.SptesZapped++;
        NotifyViewHolders(sp);
        return true;
    }

    /// <summary>kvm_flush_remote_tlbs: make_all_cpus_request(KVM_REQ_TLB_FLUSH); the remote_tlb_flush
    /// stat counts only the calls that sent an IPI (kvm_main.c 3.1.10:202-210, 3.3.8:204-212).</summary>
    private void FlushRemoteTlbs(ref LockWork work)
    {
        Stats.RemoteFlushCalls++;
        if (MakeAllCpusRequest(ref work)) Stats.RemoteFlushes++;
    }

    /// <summary>
    /// make_all_cpus_request: every other vCPU in guest mode now gets an IPI and exits (a forced
    /// exit, cost.ipi_exit on its clock); the sender waits for them (cost.remote_flush), and sends
    /// nothing if no other vCPU is in guest mode. A vCPU handling an exit of its own, or halted, only
    /// sees the request bit at its next entry.
    /// </summary>
    private bool MakeAllCpusRequest(ref LockWork work, bool reload = false)
    {
        bool called = false;
        foreach (var o in Vcpus)
        {
            if (reload) o.ReloadPending = true; // every vCPU, the sender included
            if (ReferenceEquals(o, _serving) || o.Halted || o.GuestSince > _now) continue;
            called = true;
            Stats.ExitsIpi++;
            o.IpiExits++;
            o.Exits++;
            o.OwedCycles += _cost.IpiExit;
            o.GuestSince = _now + _cost.IpiExit;
        }
        if (called) work.Flushes++;
        return called;
    }

    /// <summary>A change to this page's sptes reaches the vCPUs that translate through it as a
    /// TLB flush with their next reply.</summary>
    private void NotifyViewHolders(ShadowPage sp)
    {
        ulong holders = sp.ViewHolders;
        if (holders == 0) return;
        sp.ViewHolders = 0;
        for (int i = 0; i < Vcpus.Length; i++)
            if ((holders & (1UL << i)) != 0) Vcpus[i].ViewFlushPending = true;
    }

    private bool IsLive(ulong gfn) => _isLivePageTable(gfn);
}
