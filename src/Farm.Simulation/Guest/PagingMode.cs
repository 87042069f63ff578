namespace Farm.Simulation.Guest;

/// <summary>
/// Guest paging geometry: x86-64 (4 levels of 512 8-byte ptes), 32-bit non-PAE (2 levels of
/// 1024 4-byte ptes) or 32-bit PAE (a 4-entry PDPT above 2 levels of 512 8-byte ptes). The host
/// shadows all with 512 8-byte sptes per page; a non-PAE guest table is split into quadrants
/// (KVM-MODEL.md, role.quadrant). Both 32-bit modes have 4 PAE roots: non-PAE the 4 quadrants
/// of the pgd, PAE one per present PDPTE (mmu_alloc_shadow_roots). Details: model-decisions.md.
/// </summary>
public sealed class PagingMode
{
    public static readonly PagingMode X86_64 = new("x86-64", levels: 4, pteSize: 8, indexBits: 9, frameMask: 0x000f_ffff_ffff_f000UL);
    public static readonly PagingMode I386 = new("i386", levels: 2, pteSize: 4, indexBits: 10, frameMask: 0xffff_f000UL);
    /// <summary>Linux 3.x i386 with CONFIG_X86_PAE: PTRS_PER_PGD 4, PTRS_PER_PMD/PTE 512
    /// (pgtable-3level_types.h), physical addresses of 44 bits (__PHYSICAL_MASK_SHIFT, page_32_types.h).</summary>
    public static readonly PagingMode Pae = new("pae", levels: 3, pteSize: 8, indexBits: 9, frameMask: 0x0000_0fff_ffff_f000UL);

    // Guest pte bits (both modes).
    public const ulong Present = 1UL << 0;
    public const ulong Rw = 1UL << 1;
    public const ulong User = 1UL << 2;
    public const ulong Accessed = 1UL << 5;
    public const ulong Dirty = 1UL << 6;

    private PagingMode(string name, int levels, int pteSize, int indexBits, ulong frameMask)
    {
        Name = name;
        Levels = levels;
        PteSize = pteSize;
        IndexBits = indexBits;
        FrameMask = frameMask;
    }

    public string Name { get; }
    public int Levels { get; }
    public int PteSize { get; }
    public int IndexBits { get; }
    public ulong FrameMask { get; }
    public int EntriesPerTable => 1 << IndexBits;
    public bool Cr4Pae => PteSize == 8;
    /// <summary>32-bit PAE: the top level is the PDPT, read by the CPU (and KVM) at CR3 load.</summary>
    public bool HasPdpt => Levels == 3;
    public int Bitness => Levels == 4 ? 64 : 32;
    /// <summary>Shadow roots per guest CR3: 1, or 4 PAE roots for a 32-bit guest.</summary>
    public int ShadowRoots => Levels == 4 ? 1 : 4;

    /// <summary>Entries of the top-level table that map user space: below the 3 GiB split on
    /// 32-bit (pgd slots 0-767, PDPTEs 0-2: KERNEL_PGD_BOUNDARY), the lower half on x86-64.</summary>
    public int UserTopEntries => Levels switch { 4 => 256, 3 => 3, _ => 768 };

    /// <summary>PAE entries of the PDPT (PTRS_PER_PGD).</summary>
    public const int PdptEntries = 4;

    /// <summary>Which of the vCPU's shadow roots translates <paramref name="va"/>: the one root, or PAE root va[31:30].</summary>
    public int RootIndex(ulong va) => ShadowRoots == 1 ? 0 : (int)((va >> 30) & 3);

    /// <summary>The root that maps the kernel half: the one root, or PAE root 3 (0xC0000000 up).</summary>
    public int KernelRootIndex => ShadowRoots == 1 ? 0 : 3;

    /// <summary>Guest-physical address of the PDPT that CR3 names (32-byte aligned: CR3 bits 31:5).</summary>
    public static ulong PdptAddress(ulong cr3) => cr3 & 0xffff_ffe0UL;

    public static IReadOnlyList<string> Names { get; } = ["x86-64", "i386", "pae"];

    public static PagingMode ByName(string name) => name switch
    {
        "x86-64" => X86_64,
        "i386" => I386,
        "pae" => Pae,
        _ => throw new ArgumentException($"unknown paging mode '{name}'; valid: {string.Join(", ", Names)}"),
    };

    /// <summary>Index of <paramref name="va"/> in the guest table of <paramref name="level"/> (1 = leaf).</summary>
    public int GuestIndex(ulong va, int level) => (int)((va >> (12 + IndexBits * (level - 1))) & (ulong)(EntriesPerTable - 1));

    /// <summary>Index of <paramref name="va"/> in a shadow page of <paramref name="level"/>.</summary>
    public static int ShadowIndex(ulong va, int level) => (int)((va >> (12 + 9 * (level - 1))) & 511);

    /// <summary>role.quadrant of the shadow page for a guest table of <paramref name="level"/> that maps va.</summary>
    public int Quadrant(ulong va, int level) =>
        Cr4Pae ? 0 : (int)((va >> (12 + 9 * level)) & ((1UL << ((IndexBits - 9) * level)) - 1));

    public ulong PteFrame(ulong pte) => (pte & FrameMask) >> 12;

    public ulong MakePte(ulong gfn, ulong flags) => ((gfn << 12) & FrameMask) | flags;

    public ulong VaLimit => Bitness == 64 ? 1UL << 47 : 1UL << 32;
}
