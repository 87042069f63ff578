namespace Farm.Simulation.GuestCode;

/// <summary>Guest kernel operations that write page tables or page contents; each is a routine
/// of machine code in the guest flavour. Arguments: System V registers (64-bit) or the
/// Linux i386 kernel's regparm(3) EAX, EDX, ECX (32-bit). A PAE guest's 8-byte pte value is
/// two arguments, low half in EDX and high half in ECX (<see cref="GuestFlavour.PteValueArgs"/>).</summary>
public enum KernelOp
{
    /// <summary>clear_page(page)</summary>
    ClearPage,
    /// <summary>set_pte / set_pmd / pmd_populate(ptep, value)</summary>
    SetPte,
    /// <summary>ptep_set_wrprotect(ptep): clear _PAGE_RW (bit 1)</summary>
    PtepSetWrprotect,
    /// <summary>ptep_get_and_clear(ptep) -> old pte</summary>
    PtepGetAndClear,
    /// <summary>pte_clear(ptep): store zero</summary>
    PteClear,
    /// <summary>copy_page(dst, src)</summary>
    CopyPage,
    /// <summary>memset(ptr, byte, count)</summary>
    Memset,
    /// <summary>set_pmd / pmd_populate / set_pud(ptep, value): an upper-level entry. The same store
    /// as set_pte except on a PAE guest, where it is set_64bit (lock cmpxchg8b, as set_pte_atomic).</summary>
    SetPmd,
    /// <summary>memcpy(dst, src, count): pgd_ctor's clone_pgd_range of the kernel half</summary>
    Memcpy,
}
