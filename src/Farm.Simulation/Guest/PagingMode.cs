namespace Farm.Simulation.Guest;

/// <summary>
/// Guest paging geometry: x86-64 (4 levels of 512 8-byte ptes) or 32-bit non-PAE (2 levels of
/// 1024 4-byte ptes). The host shadows both with 512 8-byte sptes per page; a 32-bit guest
/// table is split into quadrants (KVM-MODEL.md, role.quadrant), and its root is 4 PAE roots.
/// </summary>
public sealed class PagingMode
{
    public static readonly PagingMode X86_64 = new("x86-64", levels: 4, pteSize: 8, indexBits: 9, frameMask: 0x000f_ffff_ffff_f000UL);
    public static readonly PagingMode I386 = new("i386", levels: 2, pteSize: 4, indexBits: 10, frameMask: 0xffff_f000UL);

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
    public int Bitness => PteSize == 8 ? 64 : 32;
    /// <summary>Shadow roots per guest CR3: 1, or 4 PAE roots for a 32-bit guest.</summary>
    public int ShadowRoots => Cr4Pae ? 1 : 4;

    public static PagingMode ByName(string name) => name switch
    {
        "x86-64" => X86_64,
        "i386" => I386,
        _ => throw new ArgumentException($"unknown paging mode '{name}'; valid: x86-64, i386"),
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

    public ulong VaLimit => PteSize == 8 ? 1UL << 47 : 1UL << 32;
}
