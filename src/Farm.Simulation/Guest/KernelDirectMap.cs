using Farm.Simulation.Kvm;
using Farm.Simulation.X86;

namespace Farm.Simulation.Guest;

/// <summary>
/// The guest kernel's direct map (vm.direct_map: sptes): all guest memory mapped at PAGE_OFFSET
/// with large pages, as Linux 3.x builds it at boot (x86-64: 2 MiB pages in pmds below one pud,
/// init_64.c's phys_pmd_init with PSE; i386: 4 MiB pages straight in the pgd, init_32.c's
/// kernel_physical_mapping_init with PSE). The tables below the pgd are the kernel's own, built
/// once in kernel frames; every process pgd gets the kernel half copied from swapper_pg_dir by
/// pgd_ctor (clone_pgd_range), so all processes share them.
/// </summary>
public sealed class KernelDirectMap
{
    /// <summary>_PAGE_PSE: a large page at level 2.</summary>
    public const ulong PageSizeBit = 1UL << 7;
    private const ulong Global = 1UL << 8;
    /// <summary>_KERNPG_TABLE: present, writable, accessed, dirty, not user.</summary>
    private const ulong KernPgTable = PagingMode.Present | PagingMode.Rw | PagingMode.Accessed | PagingMode.Dirty;
    /// <summary>__PAGE_KERNEL_LARGE (no NX in the model).</summary>
    private const ulong PageKernelLarge = KernPgTable | Global | PageSizeBit;
    /// <summary>The level whose entries map the large pages.</summary>
    public const int LargeLevel = 2;

    private KernelDirectMap(PagingMode mode, ulong swapperPgd)
    {
        Mode = mode;
        SwapperPgd = swapperPgd;
        PageOffset = mode.Bitness == 64 ? 0xffff_8800_0000_0000UL : 0xC000_0000UL;
        PgdBoundary = mode.GuestIndex(PageOffset, mode.Levels);
    }

    public PagingMode Mode { get; }
    /// <summary>__PAGE_OFFSET: 0xffff880000000000 (x86-64, page_64_types.h), 0xC0000000 (i386).</summary>
    public ulong PageOffset { get; }
    /// <summary>KERNEL_PGD_BOUNDARY = pgd_index(PAGE_OFFSET): pgd entries from here on are the kernel's.</summary>
    public int PgdBoundary { get; }
    /// <summary>KERNEL_PGD_PTRS: the pgd entries pgd_ctor copies.</summary>
    public int PgdPtrs => Mode.EntriesPerTable - PgdBoundary;
    /// <summary>The reference pgd (swapper_pg_dir, vCPU 0's idle pgd) whose kernel half new pgds copy.</summary>
    public ulong SwapperPgd { get; }
    /// <summary>Frames of the kernel's shared direct-map tables below the pgd.</summary>
    public List<ulong> TableFrames { get; } = [];

    /// <summary>The kernel virtual address of a frame in the direct map (__va).</summary>
    public ulong Va(ulong gfn) => PageOffset + (gfn << GuestMemory.PageShift);

    /// <summary>i386 lowmem: the direct map covers at most 896 MiB (the rest would be highmem, reached by kmap).</summary>
    public const ulong MaxLowmem32 = 896UL << 20;

    /// <summary>Builds the direct map of all of <paramref name="memory"/> into <paramref name="swapperPgd"/>,
    /// taking table frames from <paramref name="nextFrame"/> on (boot: plain memory writes, no MMU yet).</summary>
    public static KernelDirectMap Build(GuestMemory memory, PagingMode mode, ulong swapperPgd, ref ulong nextFrame)
    {
        var map = new KernelDirectMap(mode, swapperPgd);
        ulong pagesPerLarge = 1UL << (mode.IndexBits * (LargeLevel - 1));
        for (ulong gfn = 0; gfn < memory.FrameCount; gfn += pagesPerLarge)
        {
            ulong va = map.Va(gfn);
            ulong table = swapperPgd;
            for (int level = mode.Levels; level > LargeLevel; level--)
            {
                ulong entry = (table << 12) + (ulong)(mode.GuestIndex(va, level) * mode.PteSize);
                ulong pte = memory.Read(entry, mode.PteSize);
                if ((pte & PagingMode.Present) != 0)
                {
                    table = mode.PteFrame(pte);
                    continue;
                }
                ulong child = nextFrame++;
                map.TableFrames.Add(child);
                memory.Write(entry, mode.PteSize, mode.MakePte(child, KernPgTable));
                table = child;
            }
            ulong large = (table << 12) + (ulong)(mode.GuestIndex(va, LargeLevel) * mode.PteSize);
            memory.Write(large, mode.PteSize, mode.MakePte(gfn, PageKernelLarge));
        }
        return map;
    }

    /// <summary>Copies the kernel half of swapper_pg_dir into another pgd (boot: the other idle pgds).</summary>
    public void CopyKernelHalf(GuestMemory memory, ulong pgd)
    {
        int bytes = PgdPtrs * Mode.PteSize;
        ulong offset = (ulong)(PgdBoundary * Mode.PteSize);
        Span<byte> half = stackalloc byte[bytes];
        memory.ReadBytes((SwapperPgd << 12) + offset, half);
        memory.WriteBytes((pgd << 12) + offset, half);
    }
}
