using Farm.Simulation.Guest;

namespace Farm.Simulation.Kvm;

/// <summary>
/// Policy <c>tdp</c>: KVM 3.3's direct MMU on EPT (init_kvm_tdp_mmu, tdp_page_fault, __direct_map,
/// mmu_alloc_direct_roots; Linux 3.3.8 arch/x86/kvm/mmu.c). The guest owns its page tables: its
/// page faults, page-table writes, CR3 writes and invlpg cause no exit (vmx.c clears the #PF bit of
/// the exception bitmap and CR3-load/invlpg exiting when EPT is on). KVM keeps one table, gpa →
/// host page, built of direct shadow pages (role.direct, keyed by the gfn their range starts at) in
/// the same hash, with the same sptes, rmaps, parent lists and pte_list_desc cache as the shadow
/// MMU. Its only exit is the EPT violation on the first touch of a guest frame. What is and is not
/// modelled, and the cost of two-dimensional walks: docs/tdp.md.
/// </summary>
public sealed partial class ShadowMmu
{
    /// <summary>EPT's depth: get_ept_level() = VMX_EPT_DEFAULT_GAW + 1 = 4, whatever the guest's paging mode.</summary>
    public const int TdpLevels = 4;

    private MmuStep ServeTdp(KvmVcpu v, MmuRequest request)
    {
        TdpEnsureRoot(v);
        switch (request)
        {
            case UserAccessRequest a:
                return Finish(v, TdpUserAccess(v, a.Va, a.Write));
            case KernelWriteRequest w:
                // The guest kernel's store reached a frame with no EPT entry: an EPT violation; the
                // guest re-executes the store once it is mapped.
                TdpPageFault(v, w.Address >> 12);
                return Finish(v, ReplyKind.Retry);
            case Cr3Request c:
                v.Cr3 = c.Cr3; // a native CR3 load: no exit (CPU_BASED_CR3_LOAD_EXITING is off)
                return Finish(v, ReplyKind.Done);
            case InvlpgRequest:
                return Finish(v, ReplyKind.Done); // native invlpg: no exit (CPU_BASED_INVLPG_EXITING is off)
            default:
                throw new ArgumentException($"unknown MMU request {request}");
        }
    }

    /// <summary>
    /// A user access that missed the guest TLB (the vCPU's view): the hardware's two-dimensional
    /// walk (cost.tdp_walk over a native walk). A failed guest walk is the guest's own #PF, injected
    /// by the hardware without an exit. Every frame the walk reaches (the guest tables, then the
    /// data frame) needs an EPT entry; a missing one is an EPT violation, after which the access is
    /// re-executed and walks again.
    /// </summary>
    private MmuReply TdpUserAccess(KvmVcpu v, ulong va, bool write)
    {
        TdpWalk();
        GuestWalker.Walk(_memory, _mode, v.Cr3, va, write, user: true, _walk);
        bool faulted = false;
        for (int level = _mode.Levels; level >= 1; level--)
        {
            if (!TdpTranslate(v, _walk.TableGfn[level], holdView: false))
            {
                TdpPageFault(v, _walk.TableGfn[level]);
                TdpWalk();
                faulted = true;
            }
            if ((_walk.Gpte[level] & PagingMode.Present) == 0) break; // the walk stopped at this level
        }
        if (!_walk.Ok) return new MmuReply(ReplyKind.InjectFault, false);
        if (!TdpTranslate(v, _walk.Gfn, holdView: false))
        {
            TdpPageFault(v, _walk.Gfn);
            TdpWalk();
            faulted = true;
        }
        TdpTranslate(v, _walk.Gfn, holdView: true);
        return new MmuReply(faulted ? ReplyKind.Mapped : ReplyKind.Hit, _walk.Writable);
    }

    private void TdpWalk()
    {
        Stats.TdpWalks++;
        _now += _cost.TdpWalk;
    }

    /// <summary>
    /// handle_ept_violation → kvm_mmu_page_fault → tdp_page_fault: one exit; topup; the host
    /// fault-in (gfn_to_pfn, charged by no key in any policy: docs/costs.md); mmu_lock (site
    /// page_fault) for kvm_mmu_free_some_pages and __direct_map. 4 KiB host pages: level 1.
    /// </summary>
    private void TdpPageFault(KvmVcpu v, ulong gfn)
    {
        Stats.ExitsEptViolation++;
        v.Exits++;
        _now += _cost.Exit;
        TopupCaches(v);
        var work = new LockWork();
        FreeSomePages(ref work);
        Stats.ShadowFaults++;
        DirectMap(v, gfn, ref work);
        Release(v, LockSite.PageFault, work);
    }

    /// <summary>
    /// __direct_map: walk the direct table from the root by gpa; a missing level gets a direct page
    /// from kvm_mmu_get_page, keyed by the pseudo gfn of the range it covers (base address masked by
    /// PT64_LVL_ADDR_MASK); then mmu_set_spte with ACC_ALL. No direct_pte_prefetch: EPT has no
    /// accessed bit (shadow_accessed_mask is 0), so KVM disables it.
    /// </summary>
    private void DirectMap(KvmVcpu v, ulong gfn, ref LockWork work)
    {
        ulong gpa = gfn << 12;
        var sp = Page(v.Roots[0]);
        while (sp.Level > 1)
        {
            work.Levels++;
            int index = PagingMode.ShadowIndex(gpa, sp.Level);
            ulong spte = sp.Spt[index];
            if (Spte.IsPresent(spte))
            {
                sp = Page((int)Spte.Target(spte));
                continue;
            }
            ulong pseudoGfn = (gpa & ~((1UL << (12 + 9 * (sp.Level - 1))) - 1)) >> 12;
            var child = GetDirectPage(v, pseudoGfn, sp.Level - 1, Spte.Ref(sp.Id, index), ref work);
            sp.Spt[index] = Spte.MakeLink(child.Id);
            sp = child;
        }
        work.Levels++;
        SetSpte(v, sp, PagingMode.ShadowIndex(gpa, 1), MmuRole.AccAll, gfn, dirty: true, speculative: false, canUnsync: true, ref work, out _);
    }

    /// <summary>
    /// kvm_mmu_get_page with direct = 1: role.direct set, cr4_pae and quadrant 0 (base_role.word is
    /// 0 for the tdp MMU). A hash hit with the same role is reused; a new page is hashed by its gfn
    /// and gets its parent spte, and is neither write-protected nor accounted as shadowed.
    /// </summary>
    private ShadowPage GetDirectPage(KvmVcpu v, ulong gfn, int level, long parentPte, ref LockWork work)
    {
        var role = new MmuRole(level, Cr4Pae: false, Quadrant: 0, Direct: true, MmuRole.AccAll, Invalid: false);
        var bucket = _hash[MmuConstants.HashFn(gfn)];
        for (int i = 0; i < bucket.Count; i++)
        {
            var sp = bucket[i];
            work.Buckets++;
            if (sp.Gfn != gfn || sp.Role != role) continue;
            if (parentPte >= 0) AddParentPte(v, sp, parentPte);
            sp.WriteFloodingCount = 0; // __clear_sp_write_flooding_count
            return sp;
        }
        var page = AllocPage(gfn, role);
        if (parentPte >= 0) AddParentPte(v, page, parentPte);
        Stats.PagesCreated++;
        return page;
    }

    /// <summary>
    /// kvm_mmu_load at the vCPU's entry: mmu_alloc_direct_roots (topup, mmu_lock, one level-4 direct
    /// page at gfn 0, shared by every vCPU through the hash), then mmu_sync_roots under the lock
    /// again (it returns at once for a direct map). A root zapped while in use (reclaim with a tiny
    /// budget) is reloaded as KVM_REQ_MMU_RELOAD does for the shadow MMU.
    /// </summary>
    private void TdpEnsureRoot(KvmVcpu v)
    {
        bool reload = v.ReloadPending;
        v.ReloadPending = false;
        if (v.Roots.Length > 0 && !reload && _pages[v.Roots[0]] is { IsValid: true }) return;
        MmuFreeRoots(v);
        TopupCaches(v);
        var work = new LockWork();
        FreeSomePages(ref work);
        var root = GetDirectPage(v, 0, TdpLevels, -1, ref work);
        root.RootCount++;
        v.Roots = [root.Id];
        Release(v, LockSite.Cr3, work);
        Release(v, LockSite.Cr3, new LockWork()); // mmu_sync_roots' lock
    }

    /// <summary>Does the EPT map this frame (a present leaf reached from a loaded root)? For tests
    /// and figures; the vCPU gate asks about the root its own vCPU runs on (KernelMapWritable(gfn, v)),
    /// since after a root was zapped in use the vCPUs reload one by one. Before any vCPU loaded the
    /// root, nothing is mapped.</summary>
    private bool TdpMapped(ulong gfn)
    {
        foreach (var o in Vcpus)
            if (o.Roots.Length > 0) return TdpTranslate(o, gfn, holdView: false); // one root, shared through the hash
        return false;
    }

    /// <summary>The hardware's EPT walk for one gpa. With <paramref name="holdView"/> the vCPU is
    /// recorded as translating through the pages of the path, so a zap of any of them (reclaim)
    /// flushes its TLB (INVEPT through kvm_flush_remote_tlbs).</summary>
    private bool TdpTranslate(KvmVcpu v, ulong gfn, bool holdView)
    {
        if (v.Roots.Length == 0 || _pages[v.Roots[0]] is not { } sp) return false;
        ulong gpa = gfn << 12;
        int depth = 0;
        while (true)
        {
            _path[depth++] = sp.Id;
            ulong spte = sp.Spt[PagingMode.ShadowIndex(gpa, sp.Level)];
            if (!Spte.IsPresent(spte)) return false;
            if (sp.Level == 1) break;
            sp = Page((int)Spte.Target(spte));
        }
        if (holdView)
        {
            ulong bit = 1UL << v.Id;
            for (int i = 0; i < depth; i++) _pages[_path[i]]!.ViewHolders |= bit;
        }
        return true;
    }
}
