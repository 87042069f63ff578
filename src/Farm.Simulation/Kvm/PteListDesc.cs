namespace Farm.Simulation.Kvm;

/// <summary>struct pte_list_desc: PTE_LIST_EXT spte pointers and a link to the next desc.</summary>
public sealed class PteListDesc
{
    public readonly long[] Sptes = new long[MmuConstants.PTE_LIST_EXT];
    public int Count;
    public PteListDesc? More;
}

/// <summary>
/// A pte_list (rmap or parent list): empty, one spte pointer held inline, or a chain of descs.
/// Adding allocates at most one desc, from the vCPU's cache; removal compacts and frees.
/// </summary>
public struct PteList
{
    private long _single;       // valid when _count == 1 and _desc == null
    private PteListDesc? _desc; // head of the chain when there are 2+ entries
    private int _count;

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
        int count = 0;
        var d = _desc;
        while (d.Count == MmuConstants.PTE_LIST_EXT && d.More is not null)
        {
            d = d.More;
            count += MmuConstants.PTE_LIST_EXT;
        }
        return d.Count == MmuConstants.PTE_LIST_EXT ? count : count + d.Count;
    }

    /// <summary>pte_list_remove: the last entry moves into the hole; an emptied desc is freed.</summary>
    public void Remove(long spte)
    {
        if (_count == 0) throw new InvalidOperationException("pte_list_remove: empty list");
        if (_desc is null)
        {
            if (_single != spte) throw new InvalidOperationException("pte_list_remove: spte not in list");
            _count = 0;
            return;
        }
        // Find the entry and the last entry of the chain.
        PteListDesc? holder = null;
        int at = -1;
        PteListDesc last = _desc, prevOfLast = _desc;
        for (var d = _desc; d is not null; d = d.More)
        {
            for (int i = 0; i < d.Count && holder is null; i++)
                if (d.Sptes[i] == spte) { holder = d; at = i; }
            if (d.More is not null) prevOfLast = d;
            last = d;
        }
        if (holder is null) throw new InvalidOperationException("pte_list_remove: spte not in list");
        holder.Sptes[at] = last.Sptes[last.Count - 1];
        last.Count--;
        _count--;
        if (last.Count == 0)
        {
            if (ReferenceEquals(last, _desc)) _desc = null;
            else prevOfLast.More = null;
        }
        if (_count == 1 && _desc is not null)
        {
            _single = _desc.Sptes[0];
            _desc = null;
        }
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
