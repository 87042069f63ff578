namespace Farm.Simulation.Guest;

/// <summary>
/// A process's mapped virtual page numbers, enumerated in ascending order (the order of the
/// kernel's walks over an mm). Adds are appends; the list is sorted and de-duplicated only
/// when it is next read, so a fault costs O(1) rather than a red-black-tree insert
/// (the <c>SortedSet</c> this replaces was 7% of a kernbench run; docs/performance.md).
/// </summary>
public sealed class MappedPages
{
    private readonly List<ulong> _vpns = [];
    private bool _sorted = true;

    public int Count
    {
        get { Normalize(); return _vpns.Count; }
    }

    public void Add(ulong vpn)
    {
        if (_sorted && _vpns.Count > 0 && _vpns[^1] >= vpn) _sorted = false;
        _vpns.Add(vpn);
    }

    public bool Contains(ulong vpn)
    {
        Normalize();
        return _vpns.BinarySearch(vpn) >= 0;
    }

    public void Clear()
    {
        _vpns.Clear();
        _sorted = true;
    }

    public void UnionWith(MappedPages other)
    {
        other.Normalize();
        foreach (ulong vpn in other._vpns) Add(vpn);
    }

    /// <summary>A snapshot in ascending order.</summary>
    public ulong[] ToArray()
    {
        Normalize();
        return [.. _vpns];
    }

    /// <summary>Ascending order; the set must not change while it is enumerated.</summary>
    public List<ulong>.Enumerator GetEnumerator()
    {
        Normalize();
        return _vpns.GetEnumerator();
    }

    private void Normalize()
    {
        if (_sorted) return;
        _vpns.Sort();
        int kept = 1;
        for (int i = 1; i < _vpns.Count; i++)
            if (_vpns[i] != _vpns[kept - 1]) _vpns[kept++] = _vpns[i];
        _vpns.RemoveRange(kept, _vpns.Count - kept);
        _sorted = true;
    }
}
