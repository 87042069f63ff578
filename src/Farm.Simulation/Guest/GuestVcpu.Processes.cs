using System.Runtime.CompilerServices;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;

namespace Farm.Simulation.Guest;

/// <summary>Process life cycle: new mm, fork (copy page tables, COW write-protect), exec, exit.</summary>
public sealed partial class GuestVcpu
{
    private int _processesCreated;

    /// <summary>A new process with an empty mm (pgd_alloc clears its pgd).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<GuestProcess> CreateProcess(IEnumerable<Vma> vmas)
    {
        Spend(Cost.Syscall);
        ulong pgd = await PgdAlloc();
        var proc = new GuestProcess(++_processesCreated * 64 + Id, pgd);
        proc.Vmas.AddRange(vmas);
        Stats.Processes++;
        return proc;
    }

    /// <summary>
    /// fork's copy_page_range: private mappings are copied pte by pte; a writable pte is
    /// write-protected in the parent with ptep_set_wrprotect (the flavour's routine) and set
    /// read-only in the child. Shared file mappings are not copied (faulted in lazily). The
    /// parent's TLB is flushed at the end (flush_tlb_mm).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<GuestProcess> Fork(GuestProcess parent)
    {
        Stats.Forks++;
        var child = await CreateProcess(parent.Vmas);
        foreach (ulong vpn in parent.Mapped.ToArray())
        {
            ulong va = vpn << 12;
            var vma = parent.FindVma(va);
            if (vma is null || vma.Kind == VmaKind.FileShared) continue;
            ulong src = await FindPteRead(parent, va);
            ulong pte = ReadPte(src);
            if (!Present(pte)) continue;
            if (vma.Writable && (pte & PagingMode.Rw) != 0)
            {
                await Run(KernelOp.PtepSetWrprotect, src);
                pte &= ~PagingMode.Rw;
            }
            ulong leaf = await WalkAlloc(child, va);
            await SetEntry(KernelOp.SetPte, PteAddress(leaf, va, 1), pte);
            ulong gfn = Mode.PteFrame(pte);
            if (_vm.Frames.Use[gfn] == FrameUse.Data) _vm.Frames.Refs[gfn]++;
            child.Mapped.Add(vpn);
        }
        if (ReferenceEquals(Current, parent)) await FlushTlb();
        return child;
    }

    /// <summary>exec: a new mm replaces the old one, which is torn down after the switch.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask Exec(GuestProcess proc, IEnumerable<Vma> vmas)
    {
        Stats.Execs++;
        Spend(Cost.Syscall);
        var old = new GuestProcess(proc.Pid, proc.PgdGfn);
        old.Mapped.UnionWith(proc.Mapped);
        old.Vmas.AddRange(proc.Vmas);
        proc.PgdGfn = await PgdAlloc();
        proc.Mapped.Clear();
        proc.Vmas.Clear();
        proc.Vmas.AddRange(vmas);
        bool wasCurrent = ReferenceEquals(Current, proc);
        if (wasCurrent)
        {
            Current = null;
            await SwitchTo(proc); // activate_mm: load the new pgd
        }
        await TearDown(old);
        FreeTable(old.PgdGfn);
    }

    /// <summary>exit: unmap everything, free the page tables, switch away, free the pgd.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask Exit(GuestProcess proc, GuestProcess? next)
    {
        Spend(Cost.Syscall);
        bool current = ReferenceEquals(Current, proc);
        await ZapAll(proc, flush: current);
        await FreePgtables(proc);
        if (current) await SwitchTo(next);
        FreeTable(proc.PgdGfn);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask TearDown(GuestProcess old)
    {
        await ZapAll(old, flush: false);
        await FreePgtables(old);
    }

    /// <summary>unmap_vmas on a full mm: pte_clear each present pte and drop the page.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ZapAll(GuestProcess proc, bool flush)
    {
        foreach (ulong vpn in proc.Mapped)
        {
            ulong ptep = await FindPteRead(proc, vpn << 12);
            if (ptep == 0) continue;
            ulong pte = ReadPte(ptep);
            if (!Present(pte)) continue;
            await Run(KernelOp.PteClear, ptep);
            PutPage(Mode.PteFrame(pte));
        }
        proc.Mapped.Clear();
        if (flush) await FlushTlb(); // tlb_finish_mmu
    }

    /// <summary>free_pgtables: post-order by address; each table's entry in its parent is cleared
    /// (pmd_clear and friends) before the table goes back to the pool.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FreePgtables(GuestProcess proc)
    {
        if (Mode.HasPdpt) await FreePgtablesPae(proc);
        else await FreeLevel(proc.PgdGfn, Mode.Levels);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FreeLevel(ulong table, int level)
    {
        if (level == 1) return;
        await KernelRead(table);
        int entries = level == Mode.Levels ? UserPgdEntries : Mode.EntriesPerTable;
        for (int i = 0; (i = NextPresentEntry(table, i, entries)) >= 0; i++)
        {
            ulong entry = (table << 12) + (ulong)(i * Mode.PteSize);
            ulong pte = ReadPte(entry);
            ulong child = Mode.PteFrame(pte);
            await FreeLevel(child, level - 1);
            await Run(KernelOp.PteClear, entry);
            FreeTable(child);
        }
    }

    /// <summary>The first entry at or after <paramref name="from"/> whose present bit is set, or -1:
    /// the same entries in the same order as reading each pte, without a full read per empty slot.</summary>
    private int NextPresentEntry(ulong table, int from, int entries)
    {
        var frame = _vm.Memory.FrameIfAllocated(table);
        if (frame.IsEmpty) return -1;
        int stride = Mode.PteSize;
        for (int i = from; i < entries; i++)
            if ((frame[i * stride] & (byte)PagingMode.Present) != 0) return i; // little-endian: bit 0 is in the first byte
        return -1;
    }
}
