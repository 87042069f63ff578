namespace Farm.Simulation.Kvm;

/// <summary>Unsync and resync: kvm_unsync_pages, kvm_mmu_mark_parents_unsync, mmu_sync_children, kvm_sync_page.</summary>
public sealed partial class ShadowMmu
{
    /// <summary>The deepest shadow root (x86-64); sizes struct mmu_page_path.</summary>
    private const int PT64_ROOT_LEVEL = 4;

    /// <summary>
    /// mmu_need_write_protect: may a writable spte map gfn? Not if any indirect shadow page of
    /// gfn is a non-leaf (or unsync is off or not allowed here); if all are leaves, they go
    /// unsync and the answer is no protection.
    /// </summary>
    private bool MmuNeedWriteProtect(KvmVcpu v, ulong gfn, bool canUnsync, ref LockWork work)
    {
        if (_writeCount[gfn] == 0) return false;
        bool needUnsync = false;
        var bucket = _hash[MmuConstants.HashFn(gfn)];
        for (int i = 0; i < bucket.Count; i++)
        {
            var s = bucket[i];
            work.Buckets++;
            if (s.Gfn != gfn || !s.IsValid || s.IsDirect) continue;
            if (!canUnsync) return true;
            if (s.Level != 1) return true;
            if (!needUnsync && !s.Unsync)
            {
                if (!_policy.Unsync) return true;
                needUnsync = true;
            }
        }
        if (needUnsync) UnsyncPages(gfn, ref work);
        return false;
    }

    /// <summary>kvm_unsync_pages: every leaf shadow page of gfn goes out of sync.</summary>
    private void UnsyncPages(ulong gfn, ref LockWork work)
    {
        var bucket = _hash[MmuConstants.HashFn(gfn)];
        for (int i = 0; i < bucket.Count; i++)
        {
            var s = bucket[i];
            if (s.Gfn != gfn || !s.IsValid || s.IsDirect || s.Unsync) continue;
            Stats.Unsync++;
            s.Unsync = true;
            MarkParentsUnsync(s);
        }
    }

    /// <summary>kvm_mmu_mark_parents_unsync: set this page's bit in each parent, up to the root.</summary>
    private void MarkParentsUnsync(ShadowPage sp)
    {
        if (sp.ParentPtes.Count == 0) return;
        var parents = new List<long>(sp.ParentPtes.Count);
        sp.ParentPtes.CopyTo(parents);
        foreach (var r in parents)
        {
            var parent = Page(Spte.RefPage(r));
            int index = Spte.RefIndex(r);
            ref ulong word = ref parent.UnsyncChildBitmap[index >> 6];
            ulong bit = 1UL << (index & 63);
            if ((word & bit) != 0) continue;
            word |= bit;
            if (parent.UnsyncChildren++ == 0) MarkParentsUnsync(parent);
        }
    }

    private static void ClearUnsyncChildBit(ShadowPage sp, int index)
    {
        ref ulong word = ref sp.UnsyncChildBitmap[index >> 6];
        ulong bit = 1UL << (index & 63);
        if ((word & bit) == 0) return;
        word &= ~bit;
        sp.UnsyncChildren--;
    }

    /// <summary>
    /// __kvm_sync_page (kvm_sync_page, kvm_sync_page_transient): clear unsync if asked, then
    /// FNAME(sync_page); a page with no spte left present is zapped (into the invalid list; the
    /// caller commits). Returns true if the page was zapped.
    /// </summary>
    private bool KvmSyncPage(KvmVcpu v, ShadowPage sp, bool clearUnsync, ref LockWork work)
    {
        if (clearUnsync)
        {
            sp.Unsync = false; // kvm_unlink_unsync_page: the parents' bits stay (mmu_sync_children clears its path)
            Stats.Resync++;
        }
        if (!SyncPageSptes(v, sp, ref work)) return false;
        PrepareZapPage(sp, ZapReason.Sync, ref work);
        return true;
    }

    /// <summary>
    /// FNAME(sync_page): compare each present spte with the guest pte now in memory; drop what
    /// changed, refresh the rest through set_spte (speculative, so not accessed; no unsync).
    /// Returns true when no spte is left present (its "!nr_present").
    /// </summary>
    private bool SyncPageSptes(KvmVcpu v, ShadowPage sp, ref LockWork work)
    {
        int nrPresent = 0;
        ulong tableBase = sp.Gfn << 12;
        int guestIndexBase = sp.Role.Quadrant * MmuConstants.SptesPerPage;
        for (int i = 0; i < MmuConstants.SptesPerPage; i++)
        {
            ulong spte = sp.Spt[i];
            if (!Spte.IsPresent(spte)) continue;
            work.SyncSptes++;
            ulong gpte = _memory.Read(tableBase + (ulong)((guestIndexBase + i) * _mode.PteSize), _mode.PteSize);
            ulong gfn = _mode.PteFrame(gpte);
            if (GuestWalker.PrefetchInvalid(gpte) || gfn != Spte.Target(spte) || gfn >= _memory.FrameCount)
            {
                ZapPte(sp, i, ref work);
                continue;
            }
            nrPresent++;
            int access = sp.Role.Access & GuestWalker.GpteAccess(gpte);
            bool dirty = (gpte & Guest.PagingMode.Dirty) != 0;
            SetSpte(v, sp, i, access, gfn, dirty, speculative: true, canUnsync: false, ref work, out _, fromSync: true);
        }
        return nrPresent == 0;
    }

    /// <summary>kvm_sync_pages: a non-leaf page for gfn is being created (its gfn already write-protected);
    /// its unsync leaves sync, and those left empty are zapped.</summary>
    private void SyncPages(KvmVcpu v, ulong gfn, ref LockWork work)
    {
        var bucket = _hash[MmuConstants.HashFn(gfn)];
        for (int i = 0; i < bucket.Count; i++)
        {
            var s = bucket[i];
            if (s.Gfn != gfn || !s.IsValid || s.IsDirect || !s.Unsync) continue;
            KvmSyncPage(v, s, clearUnsync: true, ref work);
        }
        CommitZapPage(ref work);
    }

    /// <summary>
    /// mmu_sync_children: collect the unsync leaves under a root in batches of at most
    /// KVM_PAGE_ARRAY_NR (16) pages, parents included (mmu_unsync_walk); per batch, write-protect
    /// the leaves' gfns and flush remote TLBs once if any spte lost write access, sync each leaf and
    /// clear its bits along the walked path (for_each_sp keeps the path: mmu_pages_next), and
    /// commit the zaps of those left empty.
    /// </summary>
    private void SyncChildren(KvmVcpu v, ShadowPage root, ref LockWork work)
    {
        var pvec = new List<(ShadowPage Sp, int Idx)>(MmuConstants.KVM_PAGE_ARRAY_NR);
        var path = new MmuPagePath();
        while (true)
        {
            pvec.Clear();
            path.Init(root);
            if (MmuUnsyncWalk(root, pvec, ref work) == 0) break;
            bool protect = false;
            foreach (var (sp, _) in pvec)
                if (sp.Level == 1) protect |= RmapWriteProtect(v, sp.Gfn, ref work);
            if (protect) FlushRemoteTlbs(ref work); // once per batch
            foreach (var (sp, i) in pvec) // for_each_sp
            {
                if (!path.Next(sp, i)) continue;
                if (sp.IsValid && sp.Unsync) KvmSyncPage(v, sp, clearUnsync: true, ref work);
                path.MmuPagesClearParents();
            }
            CommitZapPage(ref work);
        }
    }

    /// <summary>mmu_unsync_walk: the page itself, then __mmu_unsync_walk. 0: nothing unsync below;
    /// -1: the batch is full (-ENOSPC); else the number of unsync leaves found.</summary>
    private int MmuUnsyncWalk(ShadowPage sp, List<(ShadowPage, int)> pvec, ref LockWork work)
    {
        if (sp.UnsyncChildren == 0) return 0;
        MmuPagesAdd(pvec, sp, 0);
        return UnsyncWalk(sp, pvec, ref work);
    }

    private int UnsyncWalk(ShadowPage sp, List<(ShadowPage, int)> pvec, ref LockWork work)
    {
        int leaves = 0;
        work.Levels++;
        foreach (var (index, child) in UnsyncChildren(sp))
        {
            if (child.UnsyncChildren > 0)
            {
                if (MmuPagesAdd(pvec, child, index)) return -1;
                int r = UnsyncWalk(child, pvec, ref work);
                if (r < 0) return r;
                if (r == 0) ClearUnsyncChildBit(sp, index);
                leaves += r;
            }
            else if (child.Unsync)
            {
                leaves++;
                if (MmuPagesAdd(pvec, child, index)) return -1;
            }
            else ClearUnsyncChildBit(sp, index);
        }
        return leaves;
    }

    /// <summary>mmu_pages_add: a page and its index in the parent it was found from; an unsync page
    /// only once; true when the batch is full.</summary>
    private static bool MmuPagesAdd(List<(ShadowPage Sp, int Idx)> pvec, ShadowPage sp, int idx)
    {
        if (sp.Unsync)
            foreach (var (p, _) in pvec)
                if (ReferenceEquals(p, sp)) return false;
        pvec.Add((sp, idx));
        return pvec.Count == MmuConstants.KVM_PAGE_ARRAY_NR;
    }

}
