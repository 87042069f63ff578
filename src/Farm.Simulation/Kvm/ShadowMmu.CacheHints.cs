using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Farm.Simulation.Kvm;

/// <summary>Host cache hints: no effect on the model, only on when the host's loads miss.</summary>
public sealed partial class ShadowMmu
{
    /// <summary>
    /// A shadow fault's set_spte reads the faulting gfn's write count (mmu_need_write_protect)
    /// and rmap head (rmap_add): two random entries of per-frame arrays, seldom in cache, each a
    /// stall at the end of the fault (about 6% of a kernbench run between them). Asked for as soon
    /// as the guest walk names the gfn, they load while the shadow walk runs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void WarmGfnState(ulong gfn)
    {
        if (!Sse.IsSupported || gfn >= (ulong)_rmap.Length) return;
        // A prefetch never faults, so an address the GC has since moved costs nothing but the hint.
        Sse.Prefetch0(Unsafe.AsPointer(ref _rmap[gfn]));
        Sse.Prefetch0(Unsafe.AsPointer(ref _writeCount[gfn]));
    }
}
