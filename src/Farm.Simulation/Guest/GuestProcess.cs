namespace Farm.Simulation.Guest;

public enum VmaKind { Anonymous, FilePrivate, FileShared }

/// <summary>A mapping: anonymous (heap, stack, data) or file-backed (text and libraries, from the page cache).</summary>
public sealed record Vma(ulong Start, ulong End, VmaKind Kind, bool Writable, GuestFile? File = null)
{
    public bool Contains(ulong va) => va >= Start && va < End;
    public bool IsPrivate => Kind != VmaKind.FileShared;
}

/// <summary>A file in the guest's page cache: frames reserved at boot, shared by every mapping.</summary>
public sealed record GuestFile(string Name, ulong FirstGfn, ulong Pages);

/// <summary>A guest process: its page-table root and mappings. Page tables live in guest memory.</summary>
public sealed class GuestProcess(int pid, ulong pgdGfn)
{
    public int Pid { get; } = pid;
    public ulong PgdGfn { get; set; } = pgdGfn;
    public ulong Cr3 => PgdGfn << 12;
    public List<Vma> Vmas { get; } = [];
    /// <summary>Virtual page numbers with a present pte (the kernel's own bookkeeping).</summary>
    public MappedPages Mapped { get; } = new();
    /// <summary>Page-table frames by level (2..levels) keyed by the va prefix they cover.</summary>
    public Dictionary<(int Level, ulong Prefix), ulong> Tables { get; } = [];

    public Vma? FindVma(ulong va)
    {
        foreach (var v in Vmas) if (v.Contains(va)) return v;
        return null;
    }
}
