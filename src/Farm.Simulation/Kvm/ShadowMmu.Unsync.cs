namespace Farm.Simulation.Kvm;

/// <summary>Unsync and resync: kvm_unsync_pages, kvm_mmu_mark_parents_unsync, mmu_sync_children, kvm_sync_page.</summary>
public sealed partial class ShadowMmu
{
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
            if (s.Gfn != gfn || !s.IsValid || s.Role.Direct) continue;
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
            if (s.Gfn != gfn || !s.IsValid || s.Role.Direct || s.Unsync) continue;
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

    /// <summary>mmu_pages_clear_parents: a page no longer unsync clears its bit upwards while parents empty out.</summary>
    private void ClearParentsUnsync(ShadowPage sp)
    {
        if (sp.ParentPtes.Count == 0) return;
        var parents = new List<long>(sp.ParentPtes.Count);
        sp.ParentPtes.CopyTo(parents);
        foreach (var r in parents)
        {
            var parent = Page(Spte.RefPage(r));
            int before = parent.UnsyncChildren;
            ClearUnsyncChildBit(parent, Spte.RefIndex(r));
            if (before == 1 && parent.UnsyncChildren == 0 && !parent.Unsync) ClearParentsUnsync(parent);
        }
    }

    /// <summary>
    /// kvm_sync_page / kvm_sync_page_transient: compare each present spte with the guest pte
    /// now in memory; drop what changed, refresh the rest without allowing unsync. A full sync
    /// write-protects the gfn again and clears unsync. Returns false if the page was zapped.
    /// </summary>
    private bool SyncPage(KvmVcpu v, ShadowPage sp, ref LockWork work, bool clearUnsync = false)
    {
        if (clearUnsync)
        {
            if (RmapWriteProtect(v, sp.Gfn, ref work)) FlushRemoteTlbs(ref work);
            sp.Unsync = false;
            ClearParentsUnsync(sp);
            Stats.Resync++;
        }
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
            int access = sp.Role.Access & GuestWalker.GpteAccess(gpte);
            bool dirty = (gpte & Guest.PagingMode.Dirty) != 0;
            SetSpte(v, sp, i, access, gfn, dirty, speculative: false, canUnsync: false, ref work, out _);
        }
        return true;
    }

    /// <summary>kvm_sync_pages: a non-leaf page for gfn is being created; its unsync leaves must sync.</summary>
    private void SyncPages(KvmVcpu v, ulong gfn, ref LockWork work)
    {
        var bucket = _hash[MmuConstants.HashFn(gfn)];
        for (int i = 0; i < bucket.Count; i++)
        {
            var s = bucket[i];
            if (s.Gfn != gfn || !s.IsValid || s.Role.Direct || !s.Unsync) continue;
            SyncPage(v, s, ref work, clearUnsync: true);
        }
    }

    /// <summary>mmu_sync_children: find the unsync leaves under a root through the bitmaps and sync them.</summary>
    private void SyncChildren(KvmVcpu v, ShadowPage root, ref LockWork work)
    {
        var leaves = new List<ShadowPage>();
        CollectUnsync(root, leaves, ref work);
        foreach (var leaf in leaves)
            if (leaf.IsValid && leaf.Unsync) SyncPage(v, leaf, ref work, clearUnsync: true);
    }

    private void CollectUnsync(ShadowPage sp, List<ShadowPage> leaves, ref LockWork work)
    {
        if (sp.UnsyncChildren == 0) return;
        work.Levels++;
        for (int w = 0; w < sp.UnsyncChildBitmap.Length; w++)
        {
            ulong bits = sp.UnsyncChildBitmap[w];
            while (bits != 0)
            {
                int index = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                ulong spte = sp.Spt[index];
                if (!Spte.IsPresent(spte) || Spte.IsLeaf(spte))
                {
                    ClearUnsyncChildBit(sp, index);
                    continue;
                }
                var child = Page((int)Spte.Target(spte));
                if (child.Unsync) leaves.Add(child);
                else if (child.UnsyncChildren > 0) CollectUnsync(child, leaves, ref work);
                else ClearUnsyncChildBit(sp, index);
            }
        }
    }
}
