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
public struct PteList
{
    private long _single;       // valid when _count == 1 and _desc == null
    private PteListDesc? _desc; // head of the chain once a second entry was added (until it empties)
    private int _count;
    // Descs in the chain. With one, its Count is _count: an add then stores into the desc without
    // reading it first. The desc is a separate object, seldom in cache when a fault adds to a gfn's
    // rmap: reading its Count was two thirds of pte_list_add's time in a kernbench run (a load
    // that misses stalls the fault path; a store that misses does not). Fits the struct's padding.
    private int _descs;

    public readonly int Count => _count;

    /// <summary>pte_list_add. Returns false if a desc was needed and <paramref name="cache"/> refused (BUG_ON).</summary>
    public bool Add(long spte, MemoryCache cache, ref int descsAllocated)
    {
        if (_count == 0)
        {
            _single = spte;
            _count = 1;
            return true;
        }
        if (_desc is null)
        {
            if (!cache.TryAlloc()) return false;
            descsAllocated++;
            _desc = new PteListDesc();
            _desc.Sptes[0] = _single;
            _desc.Sptes[1] = spte;
            _desc.Count = 2;
            _count = 2;
            _descs = 1;
            return true;
        }
        if (_descs == 1 && _count < MmuConstants.PTE_LIST_EXT)
        {
            // The one desc has room: its Count is _count (no load of the desc, only stores; the
            // Count's store first, so that it is the desc's null check, not a load).
            var head = _desc;
            head.Count = _count + 1;
            head.Sptes[_count] = spte;
            _count++;
            return true;
        }
        var d = _desc;
        while (d.Count == MmuConstants.PTE_LIST_EXT && d.More is not null) d = d.More;
        if (d.Count == MmuConstants.PTE_LIST_EXT)
        {
            if (!cache.TryAlloc()) return false;
            descsAllocated++;
            d.More = new PteListDesc();
            d = d.More;
            _descs++;
        }
        d.Sptes[d.Count++] = spte;
        _count++;
        return true;
    }

    /// <summary>What pte_list_add returns for the next add: the entries it steps over, counted as
    /// the kernel does (a full last desc that needs a new one adds nothing).</summary>
    public readonly int AddCount()
    {
        if (_count == 0) return 0;
        if (_desc is null) return 1;
        if (_descs == 1) return _count == MmuConstants.PTE_LIST_EXT ? 0 : _count; // the one desc's Count, unread
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
        for (var d = _desc; d is not null; prev = d, d = d.More)
            for (int i = 0; i < d.Count; i++)
                if (d.Sptes[i] == spte)
                {
                    RemoveEntry(d, i, prev);
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
    private void RemoveEntry(PteListDesc d, int i, PteListDesc? prev)
    {
        d.Sptes[i] = d.Sptes[--d.Count];
        if (d.Count > 0) return;
        _descs--;
        if (prev is null) _desc = d.More; // the head emptied: the next desc, or an empty list
        else prev.More = d.More;
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
