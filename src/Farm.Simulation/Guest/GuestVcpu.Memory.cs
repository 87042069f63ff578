using System.Runtime.CompilerServices;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;

namespace Farm.Simulation.Guest;

/// <summary>The guest kernel's memory management: tables in guest memory, demand and COW faults.</summary>
public sealed partial class GuestVcpu
{
    private ulong PteAddress(ulong table, ulong va, int level) =>
        (table << 12) + (ulong)(Mode.GuestIndex(va, level) * Mode.PteSize);

    private ulong ReadPte(ulong address) => _vm.Memory.Read(address, Mode.PteSize);

    private static bool Present(ulong pte) => (pte & PagingMode.Present) != 0;

    /// <summary>A fresh page-table page: allocated from the pool and cleared by clear_page; it
    /// becomes a live table of <paramref name="level"/> once cleared.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ulong> AllocTable(int level)
    {
        ulong gfn = Pool.Alloc();
        await Run(KernelOp.ClearPage, gfn << 12);
        _vm.Frames.Use[gfn] = FrameUse.PageTable;
        _vm.Frames.PtLevel[gfn] = (byte)level;
        Stats.PtPagesAllocated++;
        return gfn;
    }

    private void FreeTable(ulong gfn)
    {
        _vm.Frames.Use[gfn] = FrameUse.Free;
        _vm.Frames.PtLevel[gfn] = 0;
        Pool.Release(gfn);
        Stats.PtPagesFreed++;
    }

    /// <summary>A data frame for anonymous memory, cleared.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ulong> AllocData()
    {
        ulong gfn = Pool.Alloc();
        await Run(KernelOp.ClearPage, gfn << 12);
        _vm.Frames.Use[gfn] = FrameUse.Data;
        _vm.Frames.Refs[gfn] = 1;
        return gfn;
    }

    private void PutPage(ulong gfn)
    {
        var frames = _vm.Frames;
        if (frames.Use[gfn] != FrameUse.Data) return; // zero page and page cache stay
        if (--frames.Refs[gfn] > 0) return;
        frames.Use[gfn] = FrameUse.Free;
        Pool.Release(gfn);
    }

    private ulong Flags(bool writable, bool dirty) =>
        PagingMode.Present | PagingMode.User | PagingMode.Accessed | (writable ? PagingMode.Rw : 0) | (dirty ? PagingMode.Dirty : 0);

    /// <summary>Walks to the leaf table of va, allocating and linking missing tables (pmd_populate etc.).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<ulong> WalkAlloc(GuestProcess proc, ulong va)
    {
        ulong table = proc.PgdGfn;
        for (int level = Mode.Levels; level >= 2; level--)
        {
            ulong address = PteAddress(table, va, level);
            await KernelRead(table);
            ulong pte = ReadPte(address);
            if (!Present(pte))
            {
                ulong child = await AllocTable(level - 1);
                await SetEntry(KernelOp.SetPmd, address, Mode.MakePte(child, PagingMode.Present | PagingMode.Rw | PagingMode.User | PagingMode.Accessed));
                table = child;
            }
            else
            {
                table = Mode.PteFrame(pte);
            }
        }
        return table;
    }

    /// <summary>The leaf pte's address, or 0 if a table on the way is missing (read-only walk).</summary>
    internal ulong FindPte(GuestProcess proc, ulong va)
    {
        ulong table = proc.PgdGfn;
        for (int level = Mode.Levels; level >= 2; level--)
        {
            ulong pte = ReadPte(PteAddress(table, va, level));
            if (!Present(pte)) return 0;
            table = Mode.PteFrame(pte);
        }
        return PteAddress(table, va, 1);
    }

    /// <summary><see cref="FindPte"/> as the guest kernel does it: each table it reads goes through the direct map.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<ulong> FindPteRead(GuestProcess proc, ulong va)
    {
        if (_kernelView is null) return FindPte(proc, va);
        ulong table = proc.PgdGfn;
        for (int level = Mode.Levels; level >= 2; level--)
        {
            await KernelRead(table);
            ulong pte = ReadPte(PteAddress(table, va, level));
            if (!Present(pte)) return 0;
            table = Mode.PteFrame(pte);
        }
        await KernelRead(table);
        return PteAddress(table, va, 1);
    }

    /// <summary>handle_mm_fault: demand faults (anonymous, zero page, page cache) and COW.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask HandlePageFault(GuestProcess proc, ulong va, bool write)
    {
        Stats.PageFaults++;
        Spend(Cost.GuestFault);
        var vma = proc.FindVma(va) ?? throw new ModelException($"segfault: process {proc.Pid} touched 0x{va:x} outside its mappings");
        if (write && !vma.Writable) throw new ModelException($"segfault: process {proc.Pid} wrote read-only 0x{va:x}");
        ulong leaf = await WalkAlloc(proc, va);
        ulong ptep = PteAddress(leaf, va, 1);
        await KernelRead(leaf);
        ulong pte = ReadPte(ptep);
        ulong vpn = va >> 12;
        if (!Present(pte))
        {
            ulong gfn;
            bool writable;
            if (vma.Kind == VmaKind.Anonymous)
            {
                if (write) { gfn = await AllocData(); writable = true; }
                else { gfn = _vm.ZeroGfn; writable = false; }
            }
            else
            {
                gfn = vma.File!.FirstGfn + ((va - vma.Start) >> 12) % vma.File.Pages;
                writable = vma.Kind == VmaKind.FileShared && vma.Writable;
            }
            await SetEntry(KernelOp.SetPte, ptep, Mode.MakePte(gfn, Flags(writable, writable)));
            proc.Mapped.Add(vpn);
            if (!(write && !writable)) return;
            pte = ReadPte(ptep);
        }
        if (write && (pte & PagingMode.Rw) == 0)
            await CopyOnWrite(vma, va, ptep, pte);
    }

    /// <summary>do_wp_page: reuse a private page only we hold, else copy it (or clear, for the
    /// zero page), clearing the old pte and flushing that page before setting the new one.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask CopyOnWrite(Vma vma, ulong va, ulong ptep, ulong pte)
    {
        ulong old = Mode.PteFrame(pte);
        var frames = _vm.Frames;
        if (frames.Use[old] == FrameUse.Data && frames.Refs[old] == 1)
        {
            await SetEntry(KernelOp.SetPte, ptep, pte | PagingMode.Rw | PagingMode.Dirty);
            return;
        }
        ulong fresh;
        if (frames.Use[old] == FrameUse.Zero)
        {
            fresh = await AllocData();
        }
        else
        {
            fresh = Pool.Alloc();
            await KernelRead(old); // copy_page reads the source first
            await Run(KernelOp.CopyPage, fresh << 12, old << 12, argc: 2);
            frames.Use[fresh] = FrameUse.Data;
            frames.Refs[fresh] = 1;
        }
        await Run(KernelOp.PtepGetAndClear, ptep);
        await Invlpg(va);
        await SetEntry(KernelOp.SetPte, ptep, Mode.MakePte(fresh, Flags(true, true)));
        PutPage(old);
    }
}
