namespace Farm.Simulation.Kvm;

/// <summary>kvm_mmu_pte_write, for both versions, with the policy switches choosing each rule.</summary>
public sealed partial class ShadowMmu
{
    /// <summary>
    /// An emulated guest write of <paramref name="bytes"/> bytes at <paramref name="gpa"/> (already
    /// in guest memory): keep the shadow consistent. Takes mmu_lock once per call unless the VM
    /// has no indirect shadow pages at all.
    /// </summary>
    internal void PteWrite(KvmVcpu v, ulong gpa, int bytes, bool guestInitiated, LockSite site)
    {
        Stats.PteWriteCalls++;
        switch (bytes)
        {
            case 1: Stats.PteWriteBytes1++; break;
            case 4: Stats.PteWriteBytes4++; break;
            case 8: Stats.PteWriteBytes8++; break;
            default: Stats.PteWriteBytesOther++; break;
        }
        if (_indirectShadowPages == 0) return;

        ulong gfn = gpa >> 12;
        int offset = (int)(gpa & 4095);
        WidenGpteWrite(ref gpa, ref bytes);
        // 3.1 measures misalignment from the offset as written with the widened size (so a 4-byte
        // write to a PAE pte's high half is misaligned); 3.3's detect_write_misaligned uses the
        // widened gpa. Both changed in the same rework; the misalignment switch selects them.
        int misalignOffset = _policy.AllowLowByteWrite ? (int)(gpa & 4095) : offset;

        if (_policy.TopupOnPteWrite) TopupCaches(v);
        var work = new LockWork();
        // kvm_mmu_free_some_pages' own early return, tested here: the call is on every pte_write.
        if (!_policy.TopupOnPteWrite && AvailablePages < MmuConstants.KVM_MIN_FREE_MMU_PAGES) FreeSomePages(ref work);

        bool flooded = !_policy.WriteCountFloodDetector && guestInitiated && DetectForkFlooding(v, gfn);

        bool zapPage = false, remoteFlush = false, misalignedSeen = false;
        // mmu_pte_write_fetch_gpte's value, read when the first shadow page of gfn needs it: most
        // calls (the rest of a rep stos over a page already zapped) find none, and guest memory
        // does not change during the call, so reading it later gives the same value.
        ulong gentry = 0;
        bool gentryRead = false;
        var baseRole = BaseRole(1, MmuRole.AccAll, 0);
        var bucket = _hash[MmuConstants.HashFn(gfn)];
        for (int b = 0; b < bucket.Count; b++)
        {
            var sp = bucket[b];
            work.Buckets++;
            if (sp.Gfn != gfn || !sp.IsValid || sp.IsDirect) continue;
            bool misaligned = DetectWriteMisaligned(sp, misalignOffset, bytes);
            if (misaligned || (_policy.WriteCountFloodDetector ? DetectWriteFlooding(sp) : flooded))
            {
                misalignedSeen |= misaligned;
                zapPage |= PrepareZapPage(sp, misaligned ? ZapReason.Misaligned : ZapReason.Flooded, ref work) > 0;
                continue;
            }
            int index = GetWrittenSptes(sp, gpa, out int npte);
            if (index < 0) continue;
            if (!gentryRead)
            {
                gentry = FetchGpte(gpa, bytes);
                gentryRead = true;
            }
            for (int n = 0; n < npte; n++, index++)
            {
                ulong entry = sp.Spt[index];
                ZapPte(sp, index, ref work);
                Stats.SptesUpdated++;
                if (gentry != 0 && sp.Role.CompatibleForPteWrite(baseRole))
                {
                    if (_policy.TopupOnPteWrite && !v.DescCache.CanAdd) Stats.PrefetchSkipped++; // rmap_can_add
                    else MmuPteWriteNewPte(v, sp, index, gentry, ref work);
                }
                if (NeedRemoteFlush(entry, sp.Spt[index])) remoteFlush = true;
            }
        }
        if (misalignedSeen) Stats.PteWriteMisaligned++;
        if (!zapPage && remoteFlush) FlushRemoteTlbs(ref work);
        CommitZapPage(ref work);
        Release(v, site, work);
    }

    /// <summary>mmu_pte_write_fetch_gpte's first half: a 4-byte write on a PAE guest covers the whole pte.</summary>
    private void WidenGpteWrite(ref ulong gpa, ref int bytes)
    {
        if (bytes == 4 && _mode.Cr4Pae)
        {
            gpa &= ~7UL;
            bytes = 8;
        }
    }

    /// <summary>mmu_pte_write_fetch_gpte's read: the new guest pte (of the widened write).</summary>
    private ulong FetchGpte(ulong gpa, int bytes) => bytes switch
    {
        4 => _memory.Read(gpa, 4),
        8 => _memory.Read(gpa, 8),
        _ => 0,
    };

    /// <summary>
    /// 3.1's per-vCPU fork detector: mark the last speculative spte accessed if it maps this gfn;
    /// a third consecutive write to the same gfn with that spte still unaccessed floods.
    /// </summary>
    private bool DetectForkFlooding(KvmVcpu v, ulong gfn)
    {
        ref ulong last = ref LastSpeculativeSpte(v);
        if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref last) && v.LastPteGfn == gfn && Spte.IsPresent(last))
            last |= Spte.Accessed; // kvm_mmu_access_page
        bool accessed = !System.Runtime.CompilerServices.Unsafe.IsNullRef(ref last) && (last & Spte.Accessed) != 0;
        if (gfn == v.LastPtWriteGfn && !accessed)
            return ++v.LastPtWriteCount >= _policy.FloodThreshold;
        v.LastPtWriteGfn = gfn;
        v.LastPtWriteCount = 1;
        v.LastPteUpdated = -1;
        return false;
    }

    private ref ulong LastSpeculativeSpte(KvmVcpu v)
    {
        if (v.LastPteUpdated < 0) return ref System.Runtime.CompilerServices.Unsafe.NullRef<ulong>();
        var sp = _pages[Spte.RefPage(v.LastPteUpdated)];
        if (sp is null || !sp.IsValid) return ref System.Runtime.CompilerServices.Unsafe.NullRef<ulong>();
        return ref sp.Spt[Spte.RefIndex(v.LastPteUpdated)];
    }

    /// <summary>detect_write_misaligned: crosses a pte boundary or is shorter than 4 bytes; with
    /// fix 3, a 1-byte write at a pte-aligned offset (clear_bit's lock andb) is fine.</summary>
    private bool DetectWriteMisaligned(ShadowPage sp, int offset, int bytes)
    {
        int pteSize = sp.Role.Cr4Pae ? 8 : 4;
        if (_policy.AllowLowByteWrite && (offset & (pteSize - 1)) == 0 && bytes == 1) return false;
        return ((offset ^ (offset + bytes - 1)) & ~(pteSize - 1)) != 0 || bytes < 4;
    }

    /// <summary>detect_write_flooding (3.3): leaf pages can go unsync instead; others zap at the threshold.</summary>
    private bool DetectWriteFlooding(ShadowPage sp)
    {
        if (sp.Level == 1) return false;
        return ++sp.WriteFloodingCount >= _policy.FloodThreshold;
    }

    /// <summary>get_written_sptes: which spte(s) a write at gpa hits; -1 if another quadrant.</summary>
    private static int GetWrittenSptes(ShadowPage sp, ulong gpa, out int npte)
    {
        int pageOffset = (int)(gpa & 4095);
        npte = 1;
        if (!sp.Role.Cr4Pae)
        {
            pageOffset <<= 1; // 4-byte gptes, 8-byte sptes
            if (sp.Level == 2)
            {
                // A 32-bit pde maps 4 MiB, a shadow pde 2 MiB: two sptes.
                pageOffset &= ~7;
                pageOffset <<= 1;
                npte = 2;
            }
            int quadrant = pageOffset >> 12;
            pageOffset &= 4095;
            if (quadrant != sp.Role.Quadrant) return -1;
        }
        return pageOffset / 8;
    }

    /// <summary>mmu_pte_write_new_pte + FNAME(update_pte): only leaf pages get a speculative spte.</summary>
    private void MmuPteWriteNewPte(KvmVcpu v, ShadowPage sp, int index, ulong gentry, ref LockWork work)
    {
        if (sp.Level != 1) return; // mmu_pde_zapped
        if (GuestWalker.PrefetchInvalid(gentry)) return;
        ulong gfn = _mode.PteFrame(gentry);
        if (gfn >= _memory.FrameCount) return;
        int access = sp.Role.Access & GuestWalker.GpteAccess(gentry);
        SetSpte(v, sp, index, access, gfn, (gentry & Guest.PagingMode.Dirty) != 0, speculative: true, canUnsync: true, ref work, out _);
        Stats.PteWritePrefetched++;
    }

    /// <summary>need_remote_flush: a present spte went away, changed target, or lost permissions.</summary>
    private static bool NeedRemoteFlush(ulong old, ulong now)
    {
        if (!Spte.IsPresent(old)) return false;
        if (!Spte.IsPresent(now)) return true;
        if (Spte.Target(old) != Spte.Target(now)) return true;
        return (old & ~now & (Spte.Writable | Spte.User)) != 0;
    }
}
