namespace Farm.Simulation.Guest;

/// <summary>
/// A PAE guest's boot-time tables. Linux 3.x PAE (SHARED_KERNEL_PMD) maps the kernel's gigabyte
/// through one pmd that every pgd's PDPTE 3 points to (pgd_ctor's clone_pgd_range from
/// swapper_pg_dir), so KVM shadows it as one level-2 root shared by every process and vCPU. The
/// kernel's own mappings are not modelled as guest ptes (model-decisions.md), so that pmd is an
/// empty table here. The idle pgd (swapper_pg_dir) has only that kernel PDPTE present.
/// </summary>
public sealed partial class GuestVm
{
    private const ulong KernelPmdBootGfn = 9;

    /// <summary>A PAE guest's shared kernel pmd (PDPTE 3 of every pgd); 0 on other modes.</summary>
    public ulong KernelPmdGfn { get; }

    /// <summary>PDPTE value linking a page directory: at the PDPT level only _PAGE_PRESENT is not
    /// reserved (pud_populate, arch/x86/mm/pgtable.c).</summary>
    public ulong PdpteFor(ulong pmdGfn) => Mode.MakePte(pmdGfn, PagingMode.Present);

    private ulong BootPaeKernelPmd(int vcpus)
    {
        Frames.Use[KernelPmdBootGfn] = FrameUse.PageTable;
        Frames.PtLevel[KernelPmdBootGfn] = 2;
        for (int i = 0; i < vcpus; i++)
        {
            ulong idlePgd = PerVcpuBase + 2 * (ulong)i + 1;
            Memory.Write((idlePgd << 12) + 8 * (ulong)Mode.UserTopEntries, 8, PdpteFor(KernelPmdBootGfn));
        }
        return KernelPmdBootGfn;
    }
}
