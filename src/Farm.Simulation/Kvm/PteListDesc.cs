using System.Runtime.CompilerServices;

namespace Farm.Simulation.Kvm;

/// <summary>struct pte_list_desc: PTE_LIST_EXT spte pointers and a link to the next desc. The
/// pointers are held inline (one object per desc, as in KVM's slab) rather than in an array of
/// their own: a kernbench run allocates over a million descs and walks them on every rmap change.</summary>
public sealed class PteListDesc
{
    public SpteSlots Sptes;
    public int Count;
    public PteListDesc? More;
}

/// <summary>pte_list_desc.sptes[PTE_LIST_EXT].</summary>
[InlineArray(MmuConstants.PTE_LIST_EXT)]
public struct SpteSlots
{
    private long _element;
}

/// <summary>
/// A pte_list (rmap or parent list): empty, one spte pointer held inline, or a chain of descs.
/// Adding allocates at most one desc, from the vCPU's cache; removal packs each desc and frees an
/// emptied one.
/// </summary>
/// <remarks>
/// pte_list_add walks the chain from its head past every full desc. The list remembers where that
/// walk last stopped (<see cref="_hint"/>, at position <see cref="_hintPos"/>): every desc before it
/// is full, so the walk can resume there and end at the same desc with the same count. Only a
/// removal from a desc before the hint makes an earlier desc non-full, and pte_list_remove's own walk
/// knows the position. Model bookkeeping, not a kernel field: an rmap of a page mapped by every
/// process runs to hundreds of descs, and the walk from the head was 5% of a kernbench run.
/// </remarks>
public struct PteList
{
    private long _single;       // valid when _count == 1 and _desc == null
    private PteListDesc? _desc; // head of the chain once a second entry was added (until it empties)
    private PteListDesc? _hint; // where pte_list_add's walk resumes (non-null while _desc is)
    private int _hintPos;       // descs before _hint, all full
    private int _count;

    public readonly int Count => _count;

    /// <summary>pte_list_add. Returns false if a desc was needed and <paramref name="cache"/> refused (BUG_ON).</summary>
    public bool Add(long spte, MemoryCache cache, ref int descsAllocated) => Add(spte, cache, ref descsAllocated, out _);

    /// <summary>pte_list_add; <paramref name="count"/> is what it returns (set also when the cache
    /// refused): the entries its walk stepped over, counted as the kernel does (a full last desc
    /// that needs a new one adds nothing).</summary>
    public bool Add(long spte, MemoryCache cache, ref int descsAllocated, out int count)
    {
        if (_count == 0)
        {
            count = 0;
            _single = spte;
            _count = 1;
            return true;
        }
        if (_desc is null)
        {
            count = 1;
            if (!cache.TryAlloc()) return false;
            descsAllocated++;
            _desc = new PteListDesc();
            _desc.Sptes[0] = _single;
            _desc.Sptes[1] = spte;
            _desc.Count = 2;
            _hint = _desc;
            _hintPos = 0;
            _count = 2;
            return true;
        }
        var d = _hint!;
        int pos = _hintPos;
        while (d.Count == MmuConstants.PTE_LIST_EXT && d.More is not null)
        {
            d = d.More;
            pos++;
        }
        _hint = d;
        _hintPos = pos;
        count = pos * MmuConstants.PTE_LIST_EXT;
        if (d.Count == MmuConstants.PTE_LIST_EXT)
        {
            if (!cache.TryAlloc()) return false;
            descsAllocated++;
            d.More = new PteListDesc();
            d = d.More;
            _hint = d;
            _hintPos = pos + 1;
        }
        else
        {
            count += d.Count;
        }
        d.Sptes[d.Count++] = spte;
        _count++;
        return true;
    }

    /// <summary>What pte_list_add returns for the next add (for tests: the walk from the head).</summary>
    public readonly int AddCount()
    {
        if (_count == 0) return 0;
        if (_desc is null) return 1;
        int count = 0;
        var d = _desc;
        while (d.Count == MmuConstants.PTE_LIST_EXT && d.More is not null)
        {
            d = d.More;
            count += MmuConstants.PTE_LIST_EXT;
        }
        return d.Count == MmuConstants.PTE_LIST_EXT ? count : count + d.Count;
    }

    /// <summary>
    /// pte_list_remove (mmu.c, 3.1.10:900-934, 3.3.8:893-927): a list of one inline entry becomes
    /// empty; otherwise the desc holding the entry loses it through pte_list_desc_remove_entry.
    /// A desc left with one entry stays a desc (the list never returns to the inline form), so
    /// 2 -> 1 -> 2 entries costs no second desc, as in KVM.
    /// </summary>
    public void Remove(long spte)
    {
        if (_count == 0) throw new InvalidOperationException("pte_list_remove: empty list");
        if (_desc is null)
        {
            if (_single != spte) throw new InvalidOperationException("pte_list_remove: spte not in list");
            _count = 0;
            return;
        }
        PteListDesc? prev = null;
        int pos = 0;
        for (var d = _desc; d is not null; prev = d, d = d.More, pos++)
            for (int i = 0; i < d.Count; i++)
                if (d.Sptes[i] == spte)
                {
                    RemoveEntry(d, i, prev, pos);
                    _count--;
                    return;
                }
        throw new InvalidOperationException("pte_list_remove: spte not in list");
    }

    /// <summary>
    /// pte_list_desc_remove_entry (3.1.10:878-898, 3.3.8:871-891): the last entry of the same desc
    /// fills the hole, so every desc stays packed from index 0 and pte_list_add fills a hole in an
    /// earlier desc before it allocates; a desc left empty is unlinked (and freed to the slab).
    /// </summary>
    private void RemoveEntry(PteListDesc d, int i, PteListDesc? prev, int pos)
    {
        d.Sptes[i] = d.Sptes[--d.Count];
        if (d.Count > 0)
        {
            if (pos < _hintPos) // a full desc before the hint has a hole now: the next add stops here
            {
                _hint = d;
                _hintPos = pos;
            }
            return;
        }
        // d held one entry, so it was not full: it is the hint or lies after it.
        if (prev is null) _desc = d.More; // the head emptied: the next desc, or an empty list
        else prev.More = d.More;
        if (!ReferenceEquals(d, _hint)) return;
        if (d.More is not null) _hint = d.More; // same position, every desc before it full
        else if (prev is not null) (_hint, _hintPos) = (prev, pos - 1);
        else (_hint, _hintPos) = (null, 0);
    }

    public readonly void CopyTo(List<long> into)
    {
        if (_count == 0) return;
        if (_desc is null) { into.Add(_single); return; }
        for (var d = _desc; d is not null; d = d.More)
            for (int i = 0; i < d.Count; i++) into.Add(d.Sptes[i]);
    }

    /// <summary>Descs in the chain (for accounting checks).</summary>
    public readonly int DescCount
    {
        get
        {
            int n = 0;
            for (var d = _desc; d is not null; d = d.More) n++;
            return n;
        }
    }
}
