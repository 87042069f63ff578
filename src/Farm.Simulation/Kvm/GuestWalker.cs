using Farm.Simulation.Guest;
using Farm.Simulation.X86;

namespace Farm.Simulation.Kvm;

/// <summary>The result of FNAME(walk_addr): the tables and ptes the guest walk passed.</summary>
public sealed class GuestWalk
{
    public readonly ulong[] TableGfn = new ulong[5];   // by level: the table consulted at that level
    public readonly ulong[] Gpte = new ulong[5];       // by level: the pte read there
    public readonly ulong[] PteGpa = new ulong[5];
    public bool Ok;
    public bool Writable, User, Dirty;
    public ulong Gfn;
    /// <summary>Combined U/W access of the upper levels above each level (role.access of its shadow page).</summary>
    public readonly int[] AccessAbove = new int[5];
    public int Levels;
    /// <summary>walker->level: the level of the last gpte (1, or 2 for a guest large page: the kernel's direct map).</summary>
    public int Level;
}

/// <summary>FNAME(walk_addr): walks the guest's page tables in guest memory.</summary>
public static class GuestWalker
{
    public const int AccWrite = 2, AccUser = 4, AccExec = 1;

    /// <param name="pdptrs">A PAE guest's PDPTEs as loaded at the last CR3 load (required for PAE).</param>
    public static void Walk(GuestMemory memory, PagingMode mode, ulong cr3, ulong va, bool write, bool user, GuestWalk w,
        ulong[]? pdptrs = null)
    {
        w.Ok = false;
        w.Levels = mode.Levels;
        ulong table = cr3 >> 12;
        int access = MmuRole.AccAll;
        int level = mode.Levels;
        for (; level >= 1; level--)
        {
            if (mode.HasPdpt && level == 3)
            {
                // PT32E_ROOT_LEVEL: the PDPTE comes from the vCPU's copy (get_pdptr), not from memory;
                // only its present bit counts (its R/W and U/S bits are reserved), then one level down.
                int slot = (int)((va >> 30) & 3);
                ulong pdpte = (pdptrs ?? throw new ArgumentNullException(nameof(pdptrs), "a PAE walk needs the PDPTEs"))[slot];
                w.TableGfn[level] = cr3 >> 12;
                w.AccessAbove[level] = access;
                w.PteGpa[level] = PagingMode.PdptAddress(cr3) + (ulong)(8 * slot);
                w.Gpte[level] = pdpte;
                if ((pdpte & PagingMode.Present) == 0) return;
                table = mode.PteFrame(pdpte);
                continue;
            }
            w.TableGfn[level] = table;
            w.AccessAbove[level] = access;
            ulong gpa = (table << 12) + (ulong)(mode.GuestIndex(va, level) * mode.PteSize);
            w.PteGpa[level] = gpa;
            ulong pte = memory.Read(gpa, mode.PteSize);
            w.Gpte[level] = pte;
            if ((pte & PagingMode.Present) == 0) return;
            if (level >= 2 && (pte & Guest.KernelDirectMap.PageSizeBit) != 0)
            {
                // FNAME(is_last_gpte): a large page (PSE); gfn = its base plus the offset of va in it.
                ulong span = (1UL << (mode.IndexBits * (level - 1))) - 1;
                table = (mode.PteFrame(pte) & ~span) + ((va >> 12) & span);
                break;
            }
            if ((pte & PagingMode.Rw) == 0) access &= ~AccWrite;
            if ((pte & PagingMode.User) == 0) access &= ~AccUser;
            table = mode.PteFrame(pte);
        }
        if (level < 1) level = 1;
        else
        {
            // The large gpte's own access counts toward the result, not toward pt_access.
            if ((w.Gpte[level] & PagingMode.Rw) == 0) access &= ~AccWrite;
            if ((w.Gpte[level] & PagingMode.User) == 0) access &= ~AccUser;
        }
        w.Level = level;
        w.Gfn = table;
        w.Writable = (access & AccWrite) != 0;
        w.User = (access & AccUser) != 0;
        w.Dirty = (w.Gpte[level] & PagingMode.Dirty) != 0;
        w.Ok = (!write || w.Writable) && (!user || w.User);
    }

    /// <summary>FNAME(gpte_access) for one guest pte, as ACC_* bits.</summary>
    public static int GpteAccess(ulong gpte) =>
        AccExec | ((gpte & PagingMode.Rw) != 0 ? AccWrite : 0) | ((gpte & PagingMode.User) != 0 ? AccUser : 0);

    /// <summary>FNAME(prefetch_invalid_gpte): not present or not accessed means no speculative spte.</summary>
    public static bool PrefetchInvalid(ulong gpte) =>
        (gpte & PagingMode.Present) == 0 || (gpte & PagingMode.Accessed) == 0;
}
