namespace Farm.Simulation.Kvm;

/// <summary>The cost.* parameters in guest cycles (defaults and sources: docs/costs.md).</summary>
public sealed record CostModel(
    double GuestGhz, long Exit, long Emulate, long EmulateElement, long WalkLevel, long ShadowLevel, long SpteInstall,
    long RmapOp, long ZapPage, long ZapSpte, long RemoteFlush, long LockAcquire, long HashWalk, long Topup, long SyncSpte,
    long NativeStore, long NativeBytesPerCycle, long GuestFault, long ContextSwitch, long Syscall, long IpiExit, long TdpWalk = 0)
{
    public static CostModel From(Config.SimConfig c) => new(
        c.Double("cost.guest_ghz"), c.Int("cost.exit"), c.Int("cost.emulate"), c.Int("cost.emulate_element"),
        c.Int("cost.walk_level"), c.Int("cost.shadow_level"), c.Int("cost.spte_install"), c.Int("cost.rmap_op"),
        c.Int("cost.zap_page"), c.Int("cost.zap_spte"), c.Int("cost.remote_flush"), c.Int("cost.lock_acquire"),
        c.Int("cost.hash_walk"), c.Int("cost.topup"), c.Int("cost.sync_spte"), c.Int("cost.native_store"),
        c.Int("cost.native_bytes_per_cycle"), c.Int("cost.guest_fault"), c.Int("cost.context_switch"), c.Int("cost.syscall"), c.Int("cost.ipi_exit"),
        c.Int("cost.tdp_walk"));
}

/// <summary>Work done while holding mmu_lock; its hold time is the sum of units times costs.</summary>
public struct LockWork
{
    public long Buckets, Installs, RmapOps, PagesZapped, SptesZapped, Levels, SyncSptes, Flushes;

    public readonly long Cycles(CostModel c) =>
        c.LockAcquire + Buckets * c.HashWalk + Installs * c.SpteInstall + RmapOps * c.RmapOp + PagesZapped * c.ZapPage
        + SptesZapped * c.ZapSpte + Levels * c.ShadowLevel + SyncSptes * c.SyncSpte + Flushes * c.RemoteFlush;
}
