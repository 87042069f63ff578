using Farm.Simulation.Guest;

namespace Farm.Simulation.Kvm;

/// <summary>
/// A PAE guest's PDPTEs (x86.c load_pdptrs, pdptrs_changed): read from the 32-byte-aligned PDPT
/// that CR3 names when CR3 is loaded, and kept in the vCPU (mmu->pdptrs). The guest walk takes its
/// top level from them (FNAME(walk_addr)'s get_pdptr) and mmu_alloc_shadow_roots makes one level-2
/// root per present PDPTE. The PDPT page itself is never shadowed: guest writes to it do not trap.
/// </summary>
public sealed partial class ShadowMmu
{
    private void LoadPdptrs(KvmVcpu v)
    {
        if (!_mode.HasPdpt) return;
        ulong pdpt = PagingMode.PdptAddress(v.Cr3);
        for (int i = 0; i < PagingMode.PdptEntries; i++) v.Pdptrs[i] = _memory.Read(pdpt + (ulong)(8 * i), 8);
    }

    /// <summary>pdptrs_changed: a same-CR3 write reloads the roots when the PDPT in memory no longer
    /// matches the PDPTEs loaded (kvm_set_cr3 then takes the new-CR3 path).</summary>
    private bool PdptrsChanged(KvmVcpu v)
    {
        if (!_mode.HasPdpt) return false;
        ulong pdpt = PagingMode.PdptAddress(v.Cr3);
        for (int i = 0; i < PagingMode.PdptEntries; i++)
            if (_memory.Read(pdpt + (ulong)(8 * i), 8) != v.Pdptrs[i]) return true;
        return false;
    }
}
