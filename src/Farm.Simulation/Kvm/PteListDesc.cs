using System.Runtime.CompilerServices;

namespace Farm.Simulation.Kvm;

/// <summary>struct pte_list_desc: PTE_LIST_EXT spte pointers. Its <c>more</c> link is implicit:
/// a list keeps its descs in one array, in chain order, so desc k's next desc is desc k + 1.</summary>
public struct PteListDesc
{
    public SpteSlots Sptes;
    public int Count;
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
/// Layout (model bookkeeping, not the kernel's): the chain is an array of desc structs in chain
/// order rather than linked objects. Walking it reads consecutive memory instead of chasing a
/// pointer per desc (an rmap of a page every process maps runs to hundreds of descs), and the GC
/// has no references to trace in it. Unlinking an emptied desc moves the descs after it down one
/// place, which keeps the chain's order. The array is kept when the list empties; desc
/// accounting (allocations from the vCPU cache) is unchanged.
/// pte_list_add walks from the head past every full desc. The list remembers where that walk last
/// stopped (<see cref="_hint"/>): every desc before it is full, so the walk resumes there and ends
/// at the same desc with the same count. Only a removal from a desc before the hint opens room
/// earlier, and pte_list_remove's own walk knows which desc that is.
/// </remarks>
public struct PteList
{
    private long _single;        // valid when _count == 1 and _descCount == 0
    private PteListDesc[]? _descs;
    private int _descCount;      // descs in the chain
    private int _hint;           // where pte_list_add's walk resumes; every desc before it is full
    private int _count;

    public readonly int Count => _count;

    /// <summary>pte_list_add. Returns false if a desc was needed and <paramref name="cache"/> refused (BUG_ON).</summary>
    public bool Add(long spte, MemoryCache cache, ref int descsAllocated) => Add(spte, cache, ref descsAllocated, out _);

    /// <summary>pte_list_add (mmu.c 3.1.10:818-850, 3.3.8:811-843); <paramref name="count"/> is what
    /// it returns (set also when the cache refused): the entries its walk stepped over, counted as
    /// the kernel does (a full last desc that needs a new one adds nothing).</summary>
    public bool Add(long spte, MemoryCache cache, ref int descsAllocated, out int count)
    {
        if (_count == 0)
        {
            count = 0;
            _single = spte;
            _count = 1;
            return true;
        }
        if (_descCount == 0)
        {
            count = 1;
            if (!cache.TryAlloc()) return false;
            descsAllocated++;
            Grow();
            ref var first = ref _descs![0];
            first = default;
            first.Sptes[0] = _single;
            first.Sptes[1] = spte;
            first.Count = 2;
            _descCount = 1;
            _hint = 0;
            _count = 2;
            return true;
        }
        var descs = _descs!;
        int k = _hint;
        while (descs[k].Count == MmuConstants.PTE_LIST_EXT && k + 1 < _descCount) k++;
        _hint = k;
        count = k * MmuConstants.PTE_LIST_EXT;
        if (descs[k].Count == MmuConstants.PTE_LIST_EXT)
        {
            if (!cache.TryAlloc()) return false;
            descsAllocated++;
            Grow();
            k = _descCount++;
            _descs![k] = default;
            _hint = k;
        }
        else
        {
            count += descs[k].Count;
        }
        ref var d = ref _descs![k];
        d.Sptes[d.Count++] = spte;
        _count++;
        return true;
    }

    /// <summary>Room for one more desc at the end of the chain.</summary>
    private void Grow()
    {
        if (_descs is null) _descs = new PteListDesc[1];
        else if (_descCount == _descs.Length) Array.Resize(ref _descs, _descs.Length * 2);
    }

    /// <summary>What pte_list_add would return for the next add, by the kernel's walk from the head (tests).</summary>
    public readonly int AddCount()
    {
        if (_count == 0) return 0;
        if (_descCount == 0) return 1;
        int count = 0, k = 0;
        while (_descs![k].Count == MmuConstants.PTE_LIST_EXT && k + 1 < _descCount)
        {
            k++;
            count += MmuConstants.PTE_LIST_EXT;
        }
        return _descs[k].Count == MmuConstants.PTE_LIST_EXT ? count : count + _descs[k].Count;
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
        if (_descCount == 0)
        {
            if (_single != spte) throw new InvalidOperationException("pte_list_remove: spte not in list");
            _count = 0;
            return;
        }
        var descs = _descs!;
        for (int k = 0; k < _descCount; k++)
        {
            ref var d = ref descs[k];
            for (int i = 0; i < d.Count; i++)
                if (d.Sptes[i] == spte)
                {
                    RemoveEntry(k, i);
                    _count--;
                    return;
                }
        }
        throw new InvalidOperationException("pte_list_remove: spte not in list");
    }

    /// <summary>
    /// pte_list_desc_remove_entry (3.1.10:878-898, 3.3.8:871-891): the last entry of the same desc
    /// fills the hole, so every desc stays packed from index 0 and pte_list_add fills a hole in an
    /// earlier desc before it allocates; a desc left empty is unlinked (and freed to the slab).
    /// </summary>
    private void RemoveEntry(int k, int i)
    {
        var descs = _descs!;
        ref var d = ref descs[k];
        d.Sptes[i] = d.Sptes[--d.Count];
        if (d.Count > 0)
        {
            if (k < _hint) _hint = k; // a full desc before the hint has room now: the next add stops here
            return;
        }
        // Unlink: the descs after it move down one place (the head emptied: the next desc is the
        // head, or the list is empty). It held one entry, so it was not full: k >= _hint, and the
        // hint keeps its index unless it was the last desc.
        Array.Copy(descs, k + 1, descs, k, _descCount - k - 1);
        _descCount--;
        if (_hint == _descCount && _hint > 0) _hint--;
    }

    public readonly void CopyTo(List<long> into)
    {
        if (_count == 0) return;
        if (_descCount == 0) { into.Add(_single); return; }
        for (int k = 0; k < _descCount; k++)
            for (int i = 0; i < _descs![k].Count; i++) into.Add(_descs[k].Sptes[i]);
    }

    /// <summary>Descs in the chain (for accounting checks).</summary>
    public readonly int DescCount => _descCount;
}
