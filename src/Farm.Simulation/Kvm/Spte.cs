namespace Farm.Simulation.Kvm;

/// <summary>
/// Shadow pte encoding. A leaf spte maps a gfn (host pfn = gfn); a non-leaf spte points to a
/// child shadow page by id. Bits follow x86 where they matter (P, W, U, A).
/// </summary>
public static class Spte
{
    public const ulong Present = 1UL << 0;
    public const ulong Writable = 1UL << 1;
    public const ulong User = 1UL << 2;
    public const ulong Accessed = 1UL << 5;
    public const ulong NonLeaf = 1UL << 9;
    public const int TargetShift = 12;

    public static bool IsPresent(ulong spte) => (spte & Present) != 0;
    public static bool IsWritable(ulong spte) => (spte & Writable) != 0;
    public static bool IsLeaf(ulong spte) => (spte & NonLeaf) == 0;
    public static ulong Target(ulong spte) => spte >> TargetShift;

    public static ulong MakeLeaf(ulong gfn, bool writable, bool user, bool accessed) =>
        (gfn << TargetShift) | Present | (writable ? Writable : 0) | (user ? User : 0) | (accessed ? Accessed : 0);

    public static ulong MakeLink(int childId) => ((ulong)childId << TargetShift) | Present | Writable | User | Accessed | NonLeaf;

    /// <summary>An rmap/parent-list entry: (shadow page id, index) packed, as KVM stores a u64 *spte.</summary>
    public static long Ref(int spId, int index) => ((long)spId << 9) | (uint)index;
    public static int RefPage(long r) => (int)(r >> 9);
    public static int RefIndex(long r) => (int)(r & 511);
}
