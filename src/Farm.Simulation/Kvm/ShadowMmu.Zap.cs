namespace Farm.Simulation.Kvm;

public enum ZapReason { Misaligned, Flooded, Unprotect, Reclaim, Sync, Other }

/// <summary>Two-phase zap (kvm_mmu_prepare_zap_page / kvm_mmu_commit_zap_page), reclaim, unprotect.</summary>
public sealed partial class ShadowMmu
{
    /// <summary>
    /// kvm_mmu_prepare_zap_page: zap unsync children, unlink children and parents, unaccount the
    /// write protection, mark invalid; free later at commit unless a root still uses it.
    /// Returns the number of pages zapped (counted under <paramref name="reason"/>).
    /// </summary>
    private int PrepareZapPage(ShadowPage sp, ZapReason reason, ref LockWork work)
    {
        bool wasValid = sp.IsValid;
        int zapped = ZapUnsyncChildren(sp, reason, ref work);
        for (int i = 0; i < MmuConstants.SptesPerPage; i++)
            if (Spte.IsPresent(sp.Spt[i])) ZapPte(sp, i, ref work);
        UnlinkParents(sp, ref work);
        if (sp.IsValid && !sp.Role.Direct) UnaccountShadowed(sp.Gfn);
        if (sp.Unsync) sp.Unsync = false;
        NotifyViewHolders(sp);
        foreach (var vcpu in Vcpus) vcpu.LastPteUpdated = -1; // as kvm_mmu_prepare_zap_page does
        sp.Role = sp.Role.AsInvalid();
        if (sp.RootCount == 0)
        {
            // list_move to the invalid list: off active_mmu_pages now, so reclaim cannot pick it again.
            _active.Remove((sp.ActiveSeq, sp.Id));
            if (!_invalidList.Contains(sp)) _invalidList.Add(sp);
            _usedPages--; // kvm_mod_used_mmu_pages at prepare time, as KVM does
            zapped++;
            work.PagesZapped++;
        }
        else
        {
            // A root still in use: moved to the head of active_mmu_pages, it stays (invalid) until its
            // vCPUs reload their MMU (kvm_reload_remote_mmus: make_all_cpus_request(KVM_REQ_MMU_RELOAD)),
            // requested on every prepare, so again when reclaim reaches an invalid root still in use.
            MakeAllCpusRequest(ref work, reload: true);
            _active.Remove((sp.ActiveSeq, sp.Id));
            sp.ActiveSeq = ++_activeSeq;
            _active.Add((sp.ActiveSeq, sp.Id));
        }
        // Counted when the page is invalidated, in use as a root or not (as stat.mmu_flooded is).
        if (wasValid) CountZap(sp, reason, 1);
        return zapped;
    }

    private void CountZap(ShadowPage sp, ZapReason reason, int pages)
    {
        if (pages == 0) return;
        Stats.ZapPages += pages;
        switch (reason)
        {
            case ZapReason.Misaligned: Stats.ZapMisaligned += pages; break;
            case ZapReason.Flooded: Stats.ZapFlooded += pages; break;
            case ZapReason.Unprotect: Stats.ZapUnprotect += pages; break;
            case ZapReason.Reclaim: Stats.ZapReclaim += pages; break;
            case ZapReason.Sync: Stats.ZapSync += pages; break;
            default: Stats.ZapOther += pages; break;
        }
        if (sp.RootCount > 0) Stats.ZapRootsInUse += pages;
        // Ground truth for guest-write-driven zaps: was this gfn still a live page table?
        if (reason is ZapReason.Misaligned or ZapReason.Flooded or ZapReason.Unprotect)
        {
            if (IsLive(sp.Gfn)) Stats.ZapsPageLive += pages;
            else Stats.ZapsPageDead += pages;
        }
    }

    /// <summary>
    /// mmu_zap_unsync_children (3.1.10 mmu.c:1851-1875, 3.3.8 mmu.c:1879-1903): a non-leaf's unsync
    /// leaves go with it. Batch by batch (mmu_unsync_walk, as in mmu_sync_children), each leaf is
    /// prepare-zapped and its bit cleared along the walked path (mmu_pages_clear_parents), until a
    /// walk finds nothing unsync; the walks clear the bits whose link sptes the zaps dropped.
    /// </summary>
    private int ZapUnsyncChildren(ShadowPage parent, ZapReason reason, ref LockWork work)
    {
        if (parent.Level == 1 || parent.UnsyncChildren == 0) return 0; // mmu_unsync_walk's first test
        int zapped = 0;
        var pvec = new List<(ShadowPage Sp, int Idx)>(MmuConstants.KVM_PAGE_ARRAY_NR);
        var path = new MmuPagePath();
        while (true)
        {
            pvec.Clear();
            path.Init(parent);
            if (MmuUnsyncWalk(parent, pvec, ref work) == 0) break;
            foreach (var (sp, i) in pvec) // for_each_sp
            {
                if (!path.Next(sp, i)) continue;
                zapped += PrepareZapPage(sp, reason, ref work);
                path.MmuPagesClearParents();
            }
        }
        return zapped;
    }

    /// <summary>kvm_mmu_unlink_parents: every parent spte pointing here is cleared.</summary>
    private void UnlinkParents(ShadowPage sp, ref LockWork work)
    {
        while (sp.ParentPtes.Count > 0)
        {
            var parents = new List<long>(sp.ParentPtes.Count);
            sp.ParentPtes.CopyTo(parents);
            var r = parents[0];
            ZapPte(Page(Spte.RefPage(r)), Spte.RefIndex(r), ref work);
        }
    }

    /// <summary>kvm_mmu_commit_zap_page: one remote flush for the batch, then free the pages.</summary>
    private void CommitZapPage(ref LockWork work)
    {
        if (_invalidList.Count == 0) return;
        FlushRemoteTlbs(ref work);
        foreach (var sp in _invalidList) FreePage(sp);
        _invalidList.Clear();
    }

    private void FreePage(ShadowPage sp)
    {
        _hash[MmuConstants.HashFn(sp.Gfn)].Remove(sp);
        _active.Remove((sp.ActiveSeq, sp.Id));
        _pages[sp.Id] = null;
        _freeIds.Push(sp.Id);
    }

    /// <summary>Shadow pages allocated and not yet freed (tests: between requests, the used-page count).</summary>
    internal int AllocatedPages => _pages.Count - _freeIds.Count;

    /// <summary>Is the page on active_mmu_pages (tests: reclaim keeps a root in use there)?</summary>
    internal bool IsActive(ShadowPage sp) => _active.Contains((sp.ActiveSeq, sp.Id));

    /// <summary>kvm_mmu_available_pages returns unsigned int: with more pages in use than the budget
    /// (only reachable with a budget below what is in use) it wraps, and no reclaim happens.</summary>
    private uint AvailablePages => unchecked((uint)(_policy.PagesMax - _usedPages));

    /// <summary>
    /// kvm_mmu_free_some_pages: below 5 free, prepare-zap the oldest active page until 25 are free.
    /// A root in use, valid or already invalid, goes to the head and every vCPU is asked to reload
    /// (kvm_mmu_prepare_zap_page); it frees nothing. KVM loops on for as long as pages are short,
    /// which spins for ever once only roots in use are left; the model stops after one pass over
    /// the list as it was (each page prepared at most once per call).
    /// </summary>
    private void FreeSomePages(ref LockWork work)
    {
        if (AvailablePages >= MmuConstants.KVM_MIN_FREE_MMU_PAGES) return;
        int guard = _active.Count;
        while (AvailablePages < MmuConstants.KVM_REFILL_PAGES && _active.Count > 0 && guard-- > 0)
        {
            var (_, id) = _active.Min;
            PrepareZapPage(Page(id), ZapReason.Reclaim, ref work);
        }
        CommitZapPage(ref work);
    }

    /// <summary>kvm_mmu_unprotect_page: zap every indirect shadow page of gfn, under the lock.</summary>
    private int UnprotectPage(ulong gfn, ref LockWork work)
    {
        int zapped = 0;
        var bucket = _hash[MmuConstants.HashFn(gfn)];
        for (int i = 0; i < bucket.Count; i++)
        {
            var sp = bucket[i];
            work.Buckets++;
            if (sp.Gfn != gfn || !sp.IsValid || sp.IsDirect) continue;
            zapped += PrepareZapPage(sp, ZapReason.Unprotect, ref work);
        }
        CommitZapPage(ref work);
        return zapped;
    }
}
