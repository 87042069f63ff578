namespace Farm.Simulation.Kvm;

/// <summary>CR3 loads (kvm_mmu_new_cr3, kvm_mmu_load, kvm_mmu_sync_roots) and FNAME(invlpg).</summary>
public sealed partial class ShadowMmu
{
    private void Cr3Load(KvmVcpu v, ulong cr3)
    {
        Stats.ExitsCr3++;
        v.Exits++;
        _now += _cost.Exit;
        if (cr3 == v.Cr3 && RootsValid(v) && !PdptrsChanged(v))
        {
            SyncRoots(v); // same CR3: a TLB flush, which resyncs unsync pages
            return;
        }
        v.Cr3 = cr3;
        LoadPdptrs(v);
        // The new roots are loaded at the entry, after its requests were checked: a
        // KVM_REQ_MMU_SYNC raised by their kvm_mmu_get_page waits for the entry after next.
        bool pending = v.SyncPending;
        v.SyncPending = false;
        ReloadRoots(v);
        if (v.SyncPending) v.SyncDeferred = true;
        v.SyncPending = pending;
    }

    private bool RootsValid(KvmVcpu v)
    {
        if (v.Roots.Length == 0) return false;
        foreach (var id in v.Roots)
            if (id >= 0 && _pages[id] is not { IsValid: true }) return false;
        return true;
    }

    /// <summary>The shadow root that translates <paramref name="va"/>; null with no roots loaded or
    /// for a PAE guest's not-present PDPTE.</summary>
    private ShadowPage? RootOf(KvmVcpu v, ulong va)
    {
        if (v.Roots.Length == 0) return null;
        int id = v.Roots[_mode.RootIndex(va)];
        return id < 0 ? null : _pages[id];
    }

    /// <summary>The root a kernel-address walk starts from (x86-64: the one root; 32-bit: PAE root 3).</summary>
    private ShadowPage? KernelRoot(KvmVcpu v)
    {
        if (v.Roots.Length == 0) return null;
        int id = v.Roots[_mode.KernelRootIndex];
        return id < 0 ? null : _pages[id];
    }

    /// <summary>
    /// mmu_free_roots: under one lock, each root's count drops and a root already invalid whose
    /// last user this was is zapped. Also the tdp root's unload (Tdp/ShadowMmu.Tdp.cs).
    /// </summary>
    private void MmuFreeRoots(KvmVcpu v)
    {
        if (v.Roots.Length == 0) return;
        var work = new LockWork();
        foreach (var id in v.Roots)
        {
            if (id < 0) continue; // a PAE guest's not-present PDPTE had no root
            var root = Page(id);
            root.RootCount--;
            if (root.RootCount == 0 && !root.IsValid) PrepareZapPage(root, ZapReason.Other, ref work);
        }
        CommitZapPage(ref work);
        v.Roots = [];
        Release(v, LockSite.Cr3, work);
    }

    /// <summary>mmu_free_roots, then kvm_mmu_load: topup, one lock per root, one lock to sync.</summary>
    private void ReloadRoots(KvmVcpu v)
    {
        MmuFreeRoots(v);
        TopupCaches(v);
        var roots = new int[_mode.ShadowRoots];
        for (int i = 0; i < roots.Length; i++)
        {
            // mmu_alloc_shadow_roots: x86-64 one root of level 4 for the pml4; a 32-bit guest four
            // level-2 roots, of the pgd's quadrants (non-PAE) or of each present PDPTE's page directory
            // (PAE: none, and no lock, for a PDPTE that is not present).
            ulong rootGfn = v.Cr3 >> 12;
            if (_mode.HasPdpt)
            {
                if ((v.Pdptrs[i] & Guest.PagingMode.Present) == 0)
                {
                    roots[i] = -1;
                    continue;
                }
                rootGfn = _mode.PteFrame(v.Pdptrs[i]);
            }
            var work = new LockWork();
            FreeSomePages(ref work);
            ulong gaddr = (ulong)i << 30;
            var root = GetPage(v, rootGfn, gaddr, _mode.ShadowRoots == 1 ? _mode.Levels : 2, MmuRole.AccAll, -1, ref work);
            root.RootCount++;
            roots[i] = root.Id;
            Release(v, LockSite.Cr3, work);
        }
        v.Roots = roots;
        SyncRoots(v);
    }

    private void SyncRoots(KvmVcpu v)
    {
        var work = new LockWork();
        foreach (var id in v.Roots)
            if (id >= 0) SyncChildren(v, Page(id), ref work);
        Release(v, LockSite.Cr3, work);
    }

    /// <summary>
    /// KVM_REQ_MMU_RELOAD (vcpu_enter_guest: kvm_mmu_unload, then kvm_mmu_reload): every vCPU
    /// unloads and reloads its roots after an in-use root was zapped anywhere, not only the vCPUs
    /// whose own root went invalid. Handled at the vCPU's next request (the entry after its
    /// forced exit is not a separate step here).
    /// </summary>
    private void EnsureRoots(KvmVcpu v)
    {
        bool pending = v.ReloadPending;
        v.ReloadPending = false;
        if (v.Roots.Length > 0 && (pending || !RootsValid(v))) ReloadRoots(v);
        // vm.direct_map: sptes: the vCPU starts on its idle pgd; its roots are loaded at the first entry (kvm_mmu_reload).
        else if (v.Roots.Length == 0 && v.Cr3 != 0) ReloadRoots(v);
    }

    /// <summary>
    /// FNAME(invlpg): only an unsync leaf matters. 3.1 drops the spte under the lock, then calls
    /// kvm_mmu_pte_write (not guest-initiated), taking the lock again; 3.3 tops up, takes the lock
    /// once, drops the spte and re-reads the guest pte if a desc is free.
    /// </summary>
    private void Invlpg(KvmVcpu v, ulong va)
    {
        Stats.ExitsInvlpg++;
        v.Exits++;
        _now += _cost.Exit;
        if (_policy.InvlpgDirect) TopupCaches(v);
        var work = new LockWork();
        long pteGpa = -1;
        if (v.Roots.Length > 0)
        {
            var sp = RootOf(v, va);
            while (sp is not null)
            {
                work.Levels++;
                int index = Guest.PagingMode.ShadowIndex(va, sp.Level);
                ulong spte = sp.Spt[index];
                if (sp.Level == 1)
                {
                    if (!sp.Unsync) break;
                    pteGpa = (long)((sp.Gfn << 12) + (ulong)((sp.Role.Quadrant * MmuConstants.SptesPerPage + index) * _mode.PteSize));
                    if (ZapPte(sp, index, ref work)) FlushRemoteTlbs(ref work);
                    if (_policy.InvlpgDirect && v.DescCache.CanAdd)
                        MmuPteWriteNewPte(v, sp, index, _memory.Read((ulong)pteGpa, _mode.PteSize), ref work);
                    break;
                }
                if (!Spte.IsPresent(spte) || sp.UnsyncChildren == 0) break;
                sp = Page((int)Spte.Target(spte));
            }
        }
        Release(v, LockSite.Invlpg, work);
        if (!_policy.InvlpgDirect && pteGpa >= 0)
        {
            TopupCaches(v);
            PteWrite(v, (ulong)pteGpa, _mode.PteSize, guestInitiated: false, LockSite.Invlpg);
        }
    }
}
