using Farm.Simulation.Guest;

namespace Farm.Simulation.Kvm;

/// <summary>
/// The guest kernel's direct map as shadow state (vm.direct_map: sptes). The guest maps its memory
/// with large pages; a 2011 host backs guest memory with 4 KiB pages, so host_mapping_level is
/// PT_PAGE_TABLE_LEVEL and FNAME(fetch) shadows each guest large page with direct shadow pages
/// (role.direct) of 4 KiB sptes, which __direct_pte_prefetch fills around a fault. Kernel accesses
/// that find no spte fault through FNAME(page_fault) like any other access; the sptes go into the
/// frames' rmaps, so rmap_write_protect of a page-table frame makes its direct-map spte read-only.
/// </summary>
public sealed partial class ShadowMmu
{
    /// <summary>The level of the host's backing pages: 4 KiB (host_mapping_level, mmu.c:750-766 / 743-759).</summary>
    private const int HostLevel = 1;

    private readonly KernelDirectMap? _directMap;

    /// <summary>
    /// A guest-kernel access through the direct map that the vCPU's view does not translate: the
    /// hardware walk of the shadow tables from the current root first (a hit: no exit, no cost; it
    /// sets the accessed bit and records the vCPU on the path, as for user accesses), else the
    /// shadow fault, then emulation or a retry. The reply says whether the frame is now mapped,
    /// and writable, for the vCPU's view.
    /// </summary>
    private MmuStep ServeKernelAccess(KvmVcpu v, ulong gpa, bool write)
    {
        ulong va = _directMap!.Va(gpa >> 12);
        if (ShadowTranslate(v, va, write, user: false, out bool w))
            return Finish(v, new MmuReply(ReplyKind.Hit, w));
        if (KernelFault(v, gpa, write)) return StartEmulation(v, gpa);
        bool mapped = ShadowTranslate(v, va, write, user: false, out w);
        return Finish(v, new MmuReply(mapped ? ReplyKind.Mapped : ReplyKind.Retry, w));
    }

    /// <summary>
    /// A guest-kernel access through the direct map that the hardware walk refused: FNAME(page_fault)
    /// for the kernel address. Exit, topup, guest walk through the current CR3 (whose kernel half is
    /// the shared direct map), then FNAME(fetch) under mmu_lock: missing indirect pages for the
    /// guest's tables, direct pages below the large gpte, the 4 KiB spte and the direct prefetch.
    /// In 3.3 every page of the path has its write_flooding_count cleared. Returns true when the
    /// write must be emulated (the frame is write-protected and cannot go unsync).
    /// </summary>
    private bool KernelFault(KvmVcpu v, ulong gpa, bool write)
    {
        ulong va = _directMap!.Va(gpa >> 12) | (gpa & 0xfff);
        CountExit(v, write && HasReadOnlyLeaf(v, va));
        Stats.KernelFaults++;
        TopupCaches(v);
        GuestWalker.Walk(_memory, _mode, v.Cr3, va, write, user: false, _walk);
        _now += _cost.WalkLevel * (_mode.Levels - _walk.Level + 1);
        if (!_walk.Ok)
            throw new ModelException($"vCPU {v.Id}: the guest kernel's direct map does not map 0x{gpa:x} through cr3 0x{v.Cr3:x}");

        var work = new LockWork();
        FreeSomePages(ref work);
        Stats.ShadowFaults++;
        bool emulate = Fetch(v, va, write, ref work);
        Release(v, LockSite.PageFault, work);
        if (!emulate && !_policy.WriteCountFloodDetector) v.LastPtWriteCount = 0; // 3.1: fixed without emulation
        return emulate;
    }

    /// <summary>
    /// FNAME(fetch)'s second loop (paging_tmpl.h 3.1.10:517-531, 3.3.8:522-538): below a guest large
    /// page, down to the host level, each missing spte links a direct shadow page for the aligned
    /// gfn range (kvm_mmu_get_page with direct = true, access = gw->pte_access).
    /// </summary>
    private ShadowPage FetchDirect(KvmVcpu v, ShadowPage sp, ulong va, int directAccess, ref LockWork work)
    {
        while (sp.Level > HostLevel)
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
            ulong directGfn = _walk.Gfn & ~((1UL << (9 * (sp.Level - 1))) - 1); // KVM_PAGES_PER_HPAGE(it.level)
            var child = GetDirectPage(v, directGfn, va, sp.Level - 1, directAccess, Spte.Ref(sp.Id, index), ref work);
            sp.Spt[index] = Spte.MakeLink(child.Id);
            sp = child;
        }
        return sp;
    }

    /// <summary>
    /// kvm_mmu_get_page for a direct page (mmu.c 3.1.10:1643-1708, 3.3.8:1675-1741): role.direct
    /// with cr4_pae cleared; a hash hit with the exact role is reused; a new page neither
    /// write-protects nor accounts its gfn (no guest table behind it).
    /// </summary>
    private ShadowPage GetDirectPage(KvmVcpu v, ulong gfn, ulong gaddr, int level, int access, long parentPte, ref LockWork work)
    {
        var role = new MmuRole(level, Cr4Pae: false, _mode.Quadrant(gaddr, level), Direct: true, access, Invalid: false);
        var bucket = _hash[MmuConstants.HashFn(gfn)];
        for (int i = 0; i < bucket.Count; i++)
        {
            var sp = bucket[i];
            work.Buckets++;
            if (sp.Gfn != gfn || !sp.IsValid || sp.Role != role) continue;
            AddParentPte(v, sp, parentPte);
            if (_policy.WriteCountFloodDetector) sp.WriteFloodingCount = 0;
            return sp;
        }
        var page = AllocPage(gfn, role);
        AddParentPte(v, page, parentPte);
        Stats.PagesCreated++;
        Stats.DirectPagesCreated++;
        return page;
    }

    /// <summary>
    /// __direct_pte_prefetch (mmu.c 3.1.10:2402-2423, 3.3.8:2407-2428): in the aligned group of
    /// PTE_PREFETCH_NUM, each run of non-present sptes that ends at a present spte or at the faulting
    /// one is mapped by direct_pte_prefetch_many; a run still open at the end of the group is not.
    /// </summary>
    private void DirectPtePrefetch(KvmVcpu v, ShadowPage sp, int faultIndex, ref LockWork work)
    {
        if (sp.Level > 1) return;
        int first = faultIndex & ~(MmuConstants.PTE_PREFETCH_NUM - 1);
        int start = -1;
        for (int i = first; i < first + MmuConstants.PTE_PREFETCH_NUM; i++)
        {
            if (Spte.IsPresent(sp.Spt[i]) || i == faultIndex)
            {
                if (start < 0) continue;
                if (!DirectPrefetchMany(v, sp, start, i, ref work)) break;
                start = -1;
            }
            else if (start < 0)
            {
                start = i;
            }
        }
    }

    /// <summary>
    /// direct_pte_prefetch_many (mmu.c 3.1.10:2376-2400, 3.3.8:2381-2405): mmu_set_spte for each
    /// gfn of the run (sp->gfn + index), pte_access = role.access, dirty, speculative; the run
    /// fails (-1) when its gfns leave guest memory (gfn_to_page_many_atomic).
    /// </summary>
    private bool DirectPrefetchMany(KvmVcpu v, ShadowPage sp, int start, int end, ref LockWork work)
    {
        ulong gfn = sp.Gfn + (ulong)start;
        if (gfn + (ulong)(end - start) > _memory.FrameCount) return false;
        for (int i = start; i < end; i++, gfn++)
        {
            SetSpte(v, sp, i, sp.Role.Access, gfn, dirty: true, speculative: true, canUnsync: true, ref work, out _);
            Stats.ShadowPrefetched++;
        }
        return true;
    }

    /// <summary>Whether the direct-map spte of <paramref name="gfn"/> is writable (tests; any direct page).</summary>
    private bool DirectMapSpteWritable(ulong gfn)
    {
        var rmap = _rmap[gfn];
        if (rmap.Count == 0) return false;
        var sptes = new List<long>(rmap.Count);
        rmap.CopyTo(sptes);
        foreach (var r in sptes)
        {
            var sp = Page(Spte.RefPage(r));
            if (sp.Role.Direct) return Spte.IsWritable(sp.Spt[Spte.RefIndex(r)]);
        }
        return false;
    }

    /// <summary>rmap entries of <paramref name="gfn"/> that are direct-map sptes (tests).</summary>
    public int DirectMapRmapEntries(ulong gfn)
    {
        var sptes = new List<long>(_rmap[gfn].Count);
        _rmap[gfn].CopyTo(sptes);
        return sptes.Count(r => Page(Spte.RefPage(r)).Role.Direct);
    }
}
