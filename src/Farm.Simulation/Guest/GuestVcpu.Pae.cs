using System.Runtime.CompilerServices;
using Farm.Simulation.GuestCode;

namespace Farm.Simulation.Guest;

/// <summary>
/// Page-table entry stores by value (a PAE guest passes an 8-byte value in two registers), and a
/// PAE guest's pgd: the 4-entry PDPT with its user page directories preallocated and the shared
/// kernel pmd linked in (arch/x86/mm/pgtable.c pgd_alloc), and their release at teardown.
/// </summary>
public sealed partial class GuestVcpu
{
    private readonly ulong[] _valueArgs = new ulong[2];

    /// <summary>set_pte / set_pmd with a pte value, in the flavour's calling convention.</summary>
    public ValueTask<ulong> SetEntry(KernelOp op, ulong ptep, ulong value)
    {
        int n = Routines.Flavour.PteValueArgs(value, _valueArgs);
        return Run(op, ptep, _valueArgs[0], n == 2 ? _valueArgs[1] : 0, argc: 1 + n);
    }

    /// <summary>pgd_alloc: a cleared pgd page with the kernel half copied (<see cref="AllocPgd"/>); on PAE
    /// also the preallocated user pmds.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ulong> PgdAlloc()
    {
        if (!Mode.HasPdpt) return await AllocPgd();
        ulong pgd = await AllocTable(Mode.Levels);
        // preallocate_pmds: PREALLOCATED_PMDS = KERNEL_PGD_BOUNDARY (3) zeroed pages (PGALLOC_GFP has __GFP_ZERO).
        var pmds = new ulong[Mode.UserTopEntries];
        for (int i = 0; i < Mode.UserTopEntries; i++) pmds[i] = await AllocTable(2);
        // pgd_ctor: clone_pgd_range copies swapper_pg_dir's kernel PDPTE (a memcpy of one pgd_t: two
        // 4-byte stores, here with set_pte's code, into a page no one uses yet).
        await SetEntry(KernelOp.SetPte, (pgd << 12) + 8 * (ulong)Mode.UserTopEntries, _vm.PdpteFor(_vm.KernelPmdGfn));
        // pgd_prepopulate_pmd: pud_populate -> set_pud (set_64bit) for each user PDPTE.
        for (int i = 0; i < Mode.UserTopEntries; i++)
            await SetEntry(KernelOp.SetPmd, (pgd << 12) + 8 * (ulong)i, _vm.PdpteFor(pmds[i]));
        return pgd;
    }

    /// <summary>
    /// free_pgtables on a PAE mm: each user page directory's tables are freed as on the other
    /// modes; then its PDPTE is cleared. free_pmd_range clears it with pud_clear (set_pud, so
    /// set_64bit) when a mapping of the process lies in that gigabyte; the others were never
    /// visited and pgd_free's pgd_mop_up_pmds clears them with a plain 8-byte store (two 4-byte
    /// stores, low half first, as pte_clear's code). Each page directory goes back to the pool.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FreePgtablesPae(GuestProcess proc)
    {
        for (int i = 0; i < Mode.UserTopEntries; i++)
        {
            ulong entry = (proc.PgdGfn << 12) + 8 * (ulong)i;
            ulong pdpte = ReadPte(entry);
            if (!Present(pdpte)) continue;
            ulong pmd = Mode.PteFrame(pdpte);
            await FreeLevel(pmd, 2);
            ulong start = (ulong)i << 30, end = start + (1UL << 30);
            bool mapped = proc.Vmas.Any(v => v.Start < end && v.End > start);
            if (mapped) await SetEntry(KernelOp.SetPmd, entry, 0);
            else await Run(KernelOp.PteClear, entry);
            FreeTable(pmd);
        }
    }
}
