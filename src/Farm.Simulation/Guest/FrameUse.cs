namespace Farm.Simulation.Guest;

/// <summary>What the guest kernel uses each frame for: the ground truth behind the flooding figures.</summary>
public enum FrameUse : byte { Free, Kernel, PageTable, Data, File, Zero }

/// <summary>VM-wide frame bookkeeping: use and reference count per frame. Each vCPU changes only
/// the entries of its own frames, so both engines see the same values.</summary>
public sealed class FrameTable(ulong frames)
{
    public readonly FrameUse[] Use = new FrameUse[frames];
    public readonly int[] Refs = new int[frames];
    /// <summary>Guest page-table level of a live page-table frame (0 when it is not one).</summary>
    public readonly byte[] PtLevel = new byte[frames];
    public bool IsLivePageTable(ulong gfn) => PtLevel[gfn] != 0;
    public bool IsLivePageTableAt(ulong gfn, int level) => PtLevel[gfn] == level;
}

/// <summary>
/// A vCPU's share of guest physical memory, like Linux's per-CPU page lists: freed frames go
/// back to the hot end and are handed out first.
/// </summary>
public sealed class FramePool
{
    private readonly Stack<ulong> _free = new();

    public FramePool(ulong firstGfn, ulong count)
    {
        // Push high to low so the first allocations come from the low end of the range.
        for (ulong i = count; i > 0; i--) _free.Push(firstGfn + i - 1);
        First = firstGfn;
        Count = count;
    }

    public ulong First { get; }
    public ulong Count { get; }
    public int Free => _free.Count;

    public ulong Alloc() => _free.Count > 0 ? _free.Pop()
        : throw new Kvm.ModelException($"guest out of memory: the vCPU's {Count} frames are all in use (raise vm.memory_mb)");

    public void Release(ulong gfn) => _free.Push(gfn);

    public bool Owns(ulong gfn) => gfn >= First && gfn < First + Count;
}
