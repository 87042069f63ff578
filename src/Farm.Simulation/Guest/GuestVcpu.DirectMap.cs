using System.Runtime.CompilerServices;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;

namespace Farm.Simulation.Guest;

/// <summary>
/// The guest kernel's accesses through its direct map (vm.direct_map: sptes). The vCPU keeps a
/// TLB-like view of the direct-map translations it has used: one entry per gfn, stamped with a
/// generation so that dropping the view (a remote flush reaching this vCPU, a CR3 write) is one
/// increment. A miss asks the MMU, in request order like a user access: the hardware walk of the
/// shadow tables (a hit: no exit, no cost) or, when it finds no usable spte, the shadow fault. The
/// view is filled only from replies, so guest code never reads MMU state that another vCPU's
/// request could change meanwhile (both engines see the same).
/// </summary>
public sealed partial class GuestVcpu
{
    private uint[]? _kernelView;   // gfn -> (generation << 1) | writable
    private uint _kernelViewGen = 1;

    internal void EnableDirectMap()
    {
        _kernelView = new uint[_vm.Memory.FrameCount];
        Kvm.Cr3 = IdlePgd << 12; // the vCPU starts on its idle pgd; roots load at the first entry
    }

    /// <summary>Does the vCPU's view translate this frame for the access (no MMU request needed)?</summary>
    private bool KernelCanAccess(ulong gfn, bool write)
    {
        uint entry = _kernelView![gfn];
        return (entry >> 1) == _kernelViewGen && (!write || (entry & 1) != 0);
    }

    /// <summary>A reply to a kernel access request: the frame is translated now (writable or not).</summary>
    private void NoteKernelTranslation(ulong gfn, MmuReply reply)
    {
        if (_kernelView is null) return;
        if (reply.Kind is ReplyKind.Hit or ReplyKind.Mapped)
            _kernelView[gfn] = (_kernelViewGen << 1) | (reply.Writable ? 1u : 0u);
    }

    private void DropKernelView()
    {
        if (_kernelView is null) return;
        if (++_kernelViewGen == uint.MaxValue >> 1)
        {
            Array.Clear(_kernelView);
            _kernelViewGen = 1;
        }
    }

    /// <summary>A guest-kernel read of a frame through the direct map (page-table walks, copy sources):
    /// free when translated, else a shadow fault (vm.direct_map: bit: always free).</summary>
    internal ValueTask KernelRead(ulong gfn) =>
        _kernelView is null || KernelCanAccess(gfn, write: false) ? default : KernelReadFault(gfn);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask KernelReadFault(ulong gfn)
    {
        for (int attempt = 0; !KernelCanAccess(gfn, write: false); attempt++)
        {
            if (attempt > 16) throw new ModelException($"vCPU {Id}: kernel read of frame 0x{gfn:x} did not resolve after {attempt} faults");
            NoteKernelTranslation(gfn, await Mmu(_kernelRead.Reuse(gfn << 12)));
        }
    }

    /// <summary>pgd_alloc: a cleared page, then pgd_ctor's clone_pgd_range copies the kernel half of
    /// swapper_pg_dir (a memcpy of KERNEL_PGD_PTRS entries) so the process shares the direct map.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ulong> AllocPgd()
    {
        ulong pgd = await AllocTable(Mode.Levels);
        if (_vm.DirectMap is { } map)
        {
            ulong offset = (ulong)(map.PgdBoundary * Mode.PteSize);
            await KernelRead(map.SwapperPgd);
            await Run(KernelOp.Memcpy, (pgd << 12) + offset, (map.SwapperPgd << 12) + offset, (ulong)(map.PgdPtrs * Mode.PteSize), argc: 3);
        }
        return pgd;
    }

    /// <summary>Entries of a pgd that belong to user space (free_pgtables stops at the kernel half).</summary>
    private int UserPgdEntries => _vm.DirectMap?.PgdBoundary ?? Mode.EntriesPerTable;
}
