using Farm.Simulation.Guest;

namespace Farm.Simulation.Kvm;

/// <summary>The shadow page fault: FNAME(page_fault), FNAME(fetch), set_spte, FNAME(pte_prefetch).</summary>
public sealed partial class ShadowMmu
{
    private readonly GuestWalk _walk = new();
    private readonly int[] _path = new int[5];

    /// <summary>
    /// The hardware walk of the shadow tables for a guest access: a hit needs no exit. On a hit
    /// the leaf spte's accessed bit is set and the vCPU is recorded as translating through the
    /// pages of the path (so that later changes flush its view).
    /// </summary>
    private bool ShadowTranslate(KvmVcpu v, ulong va, bool write, bool user, out bool writable)
    {
        writable = false;
        var sp = RootOf(v, va);
        if (sp is null || !sp.IsValid) return false;
        int depth = 0;
        while (true)
        {
            _path[depth++] = sp.Id;
            int index = PagingMode.ShadowIndex(va, sp.Level);
            ref ulong spte = ref sp.Spt[index];
            if (!Spte.IsPresent(spte)) return false;
            if (sp.Level == 1)
            {
                if ((write && !Spte.IsWritable(spte)) || (user && (spte & Spte.User) == 0)) return false;
                spte |= Spte.Accessed;
                writable = Spte.IsWritable(spte);
                ulong bit = 1UL << v.Id;
                for (int i = 0; i < depth; i++) _pages[_path[i]]!.ViewHolders |= bit;
                return true;
            }
            sp = Page((int)Spte.Target(spte));
        }
    }

    /// <summary>A user-space access with no valid translation in the vCPU's view.</summary>
    private MmuReply ServeUserAccess(KvmVcpu v, ulong va, bool write)
    {
        if (ShadowTranslate(v, va, write, user: true, out bool w))
            return new MmuReply(ReplyKind.Hit, w);

        CountExit(v, write && HasReadOnlyLeaf(v, va));
        TopupCaches(v);
        GuestWalker.Walk(_memory, _mode, v.Cr3, va, write, user: true, _walk, v.Pdptrs);
        _now += _cost.WalkLevel * _mode.Levels;
        if (!_walk.Ok)
        {
            if (!_policy.WriteCountFloodDetector) v.LastPtWriteCount = 0; // 3.1: injected #PF resets the fork detector
            return new MmuReply(ReplyKind.InjectFault, false);
        }
        WarmGfnState(_walk.Gfn);

        var work = new LockWork();
        FreeSomePages(ref work);
        Stats.ShadowFaults++;
        bool emulate = Fetch(v, va, write, ref work);
        Release(v, LockSite.PageFault, work);

        if (emulate)
        {
            // A user store to a write-protected page table: KVM emulates it (a mov is a
            // page-table-writing instruction, so 3.3 does not retry it). The store rewrites the
            // value in memory, modelled as one 8-byte element.
            ulong gpa = (_walk.Gfn << 12) | (va & 0xff8);
            EmulateStore(v, gpa);
        }
        else if (!_policy.WriteCountFloodDetector)
        {
            v.LastPtWriteCount = 0; // 3.1: a fault fixed without emulation resets the fork detector
        }
        bool hit = ShadowTranslate(v, va, write, user: true, out w);
        return new MmuReply(hit ? ReplyKind.Mapped : ReplyKind.Retry, w);
    }

    private bool HasReadOnlyLeaf(KvmVcpu v, ulong va)
    {
        var sp = RootOf(v, va);
        while (sp is not null && sp.IsValid)
        {
            ulong spte = sp.Spt[PagingMode.ShadowIndex(va, sp.Level)];
            if (!Spte.IsPresent(spte)) return false;
            if (sp.Level == 1) return !Spte.IsWritable(spte);
            sp = _pages[(int)Spte.Target(spte)];
        }
        return false;
    }

    private void CountExit(KvmVcpu v, bool writeProtect)
    {
        if (writeProtect) Stats.ExitsWriteProtect++;
        else Stats.ExitsPageFault++;
        v.Exits++;
        _now += _cost.Exit;
    }

    /// <summary>mmu_topup_memory_caches; the objects it allocates cost time outside the lock.</summary>
    private void TopupCaches(KvmVcpu v)
    {
        int added = v.DescCache.Topup(MmuConstants.DescCacheMin);
        if (added > 0)
        {
            Stats.Topups++;
            _now += added * _cost.Topup;
        }
    }

    private void Release(KvmVcpu v, LockSite site, in LockWork work)
    {
        _now = Lock.Acquire(site, _now, work.Cycles(_cost), out long wait);
        v.LockWaitCycles += wait;
    }

    /// <summary>
    /// FNAME(fetch): walk the shadow tables down from the root, creating missing shadow pages
    /// for the guest tables the walk passed (3.3 resets each page's flooding count on the way),
    /// then set the leaf spte and prefetch. Returns true when the write must be emulated.
    /// </summary>
    private bool Fetch(KvmVcpu v, ulong va, bool write, ref LockWork work)
    {
        var sp = RootOf(v, va) ?? throw new ModelException($"vCPU {v.Id}: no shadow root for 0x{va:x} after a successful guest walk");
        int gwLevel = _walk.Level;
        int access = _walk.AccessAbove[gwLevel];
        while (sp.Level > gwLevel)
        {
            if (_policy.WriteCountFloodDetector) sp.WriteFloodingCount = 0;
            work.Levels++;
            int index = PagingMode.ShadowIndex(va, sp.Level);
            ulong spte = sp.Spt[index];
            if (Spte.IsPresent(spte))
            {
                sp = Page((int)Spte.Target(spte));
                continue;
            }
            var child = GetPage(v, _walk.TableGfn[sp.Level - 1], va, sp.Level - 1, access, Spte.Ref(sp.Id, index), ref work);
            sp.Spt[index] = Spte.MakeLink(child.Id);
            sp = child;
        }
        int pteAccess = access & GuestWalker.GpteAccess(_walk.Gpte[gwLevel]);
        if (sp.Level > HostLevel) sp = FetchDirect(v, sp, va, pteAccess, ref work);
        if (_policy.WriteCountFloodDetector) sp.WriteFloodingCount = 0;
        work.Levels++;
        int leaf = PagingMode.ShadowIndex(va, 1);
        SetSpte(v, sp, leaf, pteAccess, _walk.Gfn, _walk.Dirty, speculative: false, canUnsync: true, ref work, out bool writeProtected);
        if (_policy.Prefetch)
        {
            if (sp.Role.Direct) DirectPtePrefetch(v, sp, leaf, ref work);
            else PtePrefetch(v, sp, leaf, ref work);
        }
        return write && writeProtected;
    }

    /// <summary>
    /// mmu_set_spte + set_spte: install a leaf spte. Writable only if the guest pte allows and is
    /// dirty and the target gfn needs no write protection (which may unsync its leaf pages).
    /// <paramref name="fromSync"/>: FNAME(sync_page) calls set_spte directly (no last_pte_updated),
    /// and with can_unsync false an spte that is already writable stays so without the lookup.
    /// </summary>
    private void SetSpte(KvmVcpu v, ShadowPage sp, int index, int pteAccess, ulong gfn, bool dirty, bool speculative, bool canUnsync,
        ref LockWork work, out bool writeProtected, bool fromSync = false)
    {
        writeProtected = false;
        ulong old = sp.Spt[index];
        bool wasRmapped = Spte.IsPresent(old) && Spte.IsLeaf(old) && Spte.Target(old) == gfn;
        bool writable = (pteAccess & GuestWalker.AccWrite) != 0 && dirty;
        bool keepWritable = !canUnsync && wasRmapped && Spte.IsWritable(old);
        if (writable && !keepWritable && MmuNeedWriteProtect(v, gfn, canUnsync, ref work))
        {
            writable = false;
            writeProtected = true;
        }
        if (Spte.IsPresent(old) && !wasRmapped)
        {
            ZapPte(sp, index, ref work); // mmu_set_spte: the pfn changed, drop_spte and flush
            FlushRemoteTlbs(ref work);
        }
        ulong spte = Spte.MakeLeaf(gfn, writable, (pteAccess & GuestWalker.AccUser) != 0, accessed: !speculative);
        if (wasRmapped && Spte.IsWritable(old) && !writable) FlushRemoteTlbs(ref work); // set_spte: writable became read-only
        if (wasRmapped && (old & ~spte & (Spte.Writable | Spte.User)) != 0) NotifyViewHolders(sp);
        sp.Spt[index] = spte;
        work.Installs++;
        long self = Spte.Ref(sp.Id, index);
        if (!wasRmapped && RmapAdd(v, self, gfn, ref work) > MmuConstants.RMAP_RECYCLE_THRESHOLD && !fromSync)
            RmapRecycle(gfn, ref work);
        if (speculative && !fromSync)
        {
            v.LastPteUpdated = self;
            v.LastPteGfn = gfn;
        }
    }

    /// <summary>FNAME(pte_prefetch): up to 7 neighbours in the aligned group of 8, from present, accessed guest ptes.</summary>
    private void PtePrefetch(KvmVcpu v, ShadowPage sp, int faultIndex, ref LockWork work)
    {
        if (sp.Level > 1) return;
        int first = faultIndex & ~(MmuConstants.PTE_PREFETCH_NUM - 1);
        ulong tableBase = sp.Gfn << 12;
        int guestBase = sp.Role.Quadrant * MmuConstants.SptesPerPage;
        for (int i = first; i < first + MmuConstants.PTE_PREFETCH_NUM; i++)
        {
            if (i == faultIndex || Spte.IsPresent(sp.Spt[i])) continue;
            ulong gpte = _memory.Read(tableBase + (ulong)((guestBase + i) * _mode.PteSize), _mode.PteSize);
            if (GuestWalker.PrefetchInvalid(gpte)) continue;
            ulong gfn = _mode.PteFrame(gpte);
            if (gfn >= _memory.FrameCount) break; // error pfn
            int access = sp.Role.Access & GuestWalker.GpteAccess(gpte);
            SetSpte(v, sp, i, access, gfn, (gpte & PagingMode.Dirty) != 0, speculative: true, canUnsync: true, ref work, out _);
            Stats.ShadowPrefetched++;
        }
    }

    /// <summary>
    /// A guest-kernel write refused by the vCPU gate: the write-protect fault of FNAME(page_fault).
    /// KVM walks the guest tables and then the shadow through the vCPU's current root
    /// (FNAME(fetch)), which in 3.3 clears write_flooding_count of every shadow page on the path
    /// (<see cref="KernelFetchWalk"/>). The kernel's own mapping below the root is one bit per frame
    /// (DESIGN.md's allowed simplification): if the frame needs no protection (or its leaves can go
    /// unsync) the mapping becomes writable and the guest retries natively; otherwise it is emulated.
    /// </summary>
    private bool KernelWriteFault(KvmVcpu v, ulong gfn)
    {
        CountExit(v, writeProtect: true);
        TopupCaches(v);
        _now += _cost.WalkLevel * _mode.Levels;
        var work = new LockWork();
        FreeSomePages(ref work);
        Stats.ShadowFaults++;
        work.Levels += _mode.Levels;
        KernelFetchWalk(v);
        bool protect = MmuNeedWriteProtect(v, gfn, canUnsync: true, ref work);
        if (!protect) _kernelMapWritable![gfn] = true;
        work.Installs++;
        Release(v, LockSite.PageFault, work);
        if (!protect && !_policy.WriteCountFloodDetector) v.LastPtWriteCount = 0;
        return protect;
    }

    /// <summary>
    /// FNAME(fetch)'s shadow walk for a kernel address: it starts at the root that maps the kernel
    /// half (x86-64: the one root, pgd slots 256-511; a 32-bit guest: PAE root 3, 0xC0000000 up)
    /// and clear_sp_write_flooding_count resets each page it passes. The pages below the root map
    /// the kernel (not modelled as shadow pages), so the root is the one that counts.
    /// </summary>
    private void KernelFetchWalk(KvmVcpu v)
    {
        if (!_policy.WriteCountFloodDetector || v.Roots.Length == 0) return;
        var root = KernelRoot(v);
        if (root is { IsValid: true }) root.WriteFloodingCount = 0;
    }
}
