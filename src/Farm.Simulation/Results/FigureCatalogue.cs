using Farm.Simulation.Kvm;

namespace Farm.Simulation.Results;

/// <summary>One number of a trial result: its short name, dotted path (RESULTS.md), unit and what it counts.</summary>
public sealed record Figure(string Name, string Path, string Unit, string Description)
{
    public override string ToString() => Path;
}

/// <summary>
/// The one catalogue of a result's figures (RESULTS.md, in its order): the result builder writes
/// them, the report and the command line's comparison table read them by these entries.
/// <c>FigureCatalogueTests</c> checks that it is exactly the figures a result carries.
/// </summary>
public static class FigureCatalogue
{
    public const string Count = "count", Cycles = "cycles", Seconds = "s", Ghz = "GHz";

    public static readonly Figure ElapsedCycles = new("elapsed cycles", "time.elapsed_cycles", Cycles, "virtual time of the last vCPU to finish");
    public static readonly Figure Elapsed = new("elapsed", "time.elapsed_seconds", Seconds, "elapsed cycles at the guest clock rate");
    public static readonly Figure GuestGhz = new("guest clock", "time.guest_ghz", Ghz, "cost.guest_ghz");

    public static readonly Figure Exits = new("exits", "exits.total", Count, "VM exits of every reason");
    public static readonly Figure ExitsPageFault = new("page fault", "exits.page_fault", Count, "exits for a shadow page fault");
    public static readonly Figure ExitsWriteProtect = new("write protect", "exits.write_protect", Count, "exits for a write to a write-protected page (emulated)");
    public static readonly Figure ExitsCr3 = new("cr3", "exits.cr3", Count, "exits for a cr3 load");
    public static readonly Figure ExitsInvlpg = new("invlpg", "exits.invlpg", Count, "exits for invlpg");
    public static readonly Figure ExitsIpi = new("ipi (forced)", "exits.ipi", Count, "exits forced by remote flush / reload requests");
    public static readonly Figure ExitsEptViolation = new("ept violation (tdp)", "exits.ept_violation", Count, "EPT violations: first touches of a guest frame under policy tdp");

    public static readonly Figure Emulated = new("emulated instructions", "emulation.instructions", Count, "instructions KVM emulated");
    public static readonly Figure EmulatedElements = new("emulated elements", "emulation.elements", Count, "emulated writes: rep iterations and single writes");
    public static readonly Figure Retried = new("retried (unprotected, re-executed)", "emulation.retried", Count, "faulting instructions unprotected and re-executed instead of emulated (fix 2)");

    public static readonly Figure PteWriteCalls = new("kvm_mmu_pte_write calls", "pte_write.calls", Count, "kvm_mmu_pte_write calls: one per emulated element, plus kvm-3.1's invlpg");
    public static readonly Figure PteWriteBytes1 = new("1 byte", "pte_write.bytes_1", Count, "emulated page-table writes of 1 byte (lock andb)");
    public static readonly Figure PteWriteBytes4 = new("4 bytes", "pte_write.bytes_4", Count, "emulated page-table writes of 4 bytes");
    public static readonly Figure PteWriteBytes8 = new("8 bytes", "pte_write.bytes_8", Count, "emulated page-table writes of 8 bytes");
    public static readonly Figure PteWriteBytesOther = new("other", "pte_write.bytes_other", Count, "emulated page-table writes of another width");

    public static readonly Figure Zapped = new("zapped pages", "zap.pages", Count, "shadow pages zapped");
    public static readonly Figure ZapMisaligned = new("misaligned", "zap.misaligned", Count, "zapped for a misaligned write");
    public static readonly Figure ZapFlooded = new("flooded", "zap.flooded", Count, "zapped by the flood detector");
    public static readonly Figure ZapUnprotect = new("unprotect", "zap.unprotect", Count, "zapped to unprotect a gfn");
    public static readonly Figure ZapReclaim = new("reclaim", "zap.reclaim", Count, "zapped to stay under mmu.pages_max");
    public static readonly Figure ZapSync = new("sync (left empty)", "zap.sync", Count, "zapped when a sync left them empty");
    public static readonly Figure ZapOther = new("other", "zap.other", Count, "zapped for another reason");

    public static readonly Figure DescExhausted = new("desc cache exhausted", "desc_cache.exhausted", Count, "pte_list_desc allocations that found the per-vCPU cache empty");

    public static readonly Figure LockAcquisitions = new("mmu_lock acquisitions", "mmu_lock.acquisitions", Count, "mmu_lock acquisitions");
    public static readonly Figure LockWait = new("mmu_lock wait (cycles)", "mmu_lock.wait_cycles", Cycles, "cycles spent waiting for mmu_lock");
    public static readonly Figure LockWaitP50 = new("p50", "mmu_lock.wait_p50", Cycles, "median wait per acquisition");
    public static readonly Figure LockWaitP99 = new("p99", "mmu_lock.wait_p99", Cycles, "99th percentile of the wait per acquisition");
    public static readonly Figure LockWaitMax = new("max", "mmu_lock.wait_max", Cycles, "longest wait of one acquisition");

    /// <summary>Every figure, in RESULTS.md order (the order a result carries them).</summary>
    public static IReadOnlyList<Figure> All { get; } = Build();

    /// <summary>The figures under a cover letter's timing that explain a difference (report and comparison table).</summary>
    public static IReadOnlyList<(string Label, Figure Figure)> Explaining { get; } =
    [
        ("exits", Exits),
        ("write-protect exits", ExitsWriteProtect),
        ("emulated instructions", Emulated),
        ("emulated elements", EmulatedElements),
        ("retried", Retried),
        ("kvm_mmu_pte_write calls", PteWriteCalls),
        ("zapped: misaligned", ZapMisaligned),
        ("zapped: flooded", ZapFlooded),
        ("zapped: unprotect", ZapUnprotect),
        ("zapped: reclaim", ZapReclaim),
        ("zapped: left empty by sync", ZapSync),
        ("forced exits (remote flush/reload IPIs)", ExitsIpi),
        ("mmu_lock acquisitions", LockAcquisitions),
        ("mmu_lock wait (cycles)", LockWait),
        ("mmu_lock wait p99 (cycles)", LockWaitP99),
        ("desc cache exhausted", DescExhausted),
    ];

    /// <summary>The exit reasons, which add up to <see cref="Exits"/>.</summary>
    public static IReadOnlyList<Figure> ExitReasons { get; } = [ExitsPageFault, ExitsWriteProtect, ExitsCr3, ExitsInvlpg, ExitsIpi, ExitsEptViolation];

    /// <summary>The zap reasons, which add up to <see cref="Zapped"/>.</summary>
    public static IReadOnlyList<Figure> ZapReasons { get; } = [ZapMisaligned, ZapFlooded, ZapUnprotect, ZapReclaim, ZapSync, ZapOther];

    /// <summary>Emulated page-table writes by width.</summary>
    public static IReadOnlyList<Figure> WriteWidths { get; } = [PteWriteBytes1, PteWriteBytes4, PteWriteBytes8, PteWriteBytesOther];

    public static IReadOnlyList<Figure> EmulationKinds { get; } = [Emulated, Retried];
    public static IReadOnlyList<Figure> WaitPercentiles { get; } = [LockWaitP50, LockWaitP99, LockWaitMax];

    /// <summary><c>mmu_lock.by_site.SITE.FIELD</c> (FIELD: acquisitions, hold_cycles, wait_cycles).</summary>
    public static Figure BySite(LockSite site, string field) =>
        new(site.Name(), $"mmu_lock.by_site.{site.Name()}.{field}", field == "acquisitions" ? Count : Cycles, $"{field.Replace('_', ' ')} at {site.Name()}");

    /// <summary>The figure at <paramref name="path"/>, or null.</summary>
    public static Figure? Find(string path) => All.FirstOrDefault(f => f.Path == path);

    private static List<Figure> Build()
    {
        var f = new List<Figure>
        {
            ElapsedCycles, Elapsed, GuestGhz,
            Exits, ExitsPageFault, ExitsWriteProtect, ExitsCr3, ExitsInvlpg, ExitsIpi, ExitsEptViolation,
            Emulated, EmulatedElements, Retried,
            PteWriteCalls, PteWriteBytes1, PteWriteBytes4, PteWriteBytes8, PteWriteBytesOther,
            new("misaligned", "pte_write.misaligned", Count, "writes kvm-3.1 takes for misaligned"),
            new("sptes updated", "pte_write.sptes_updated", Count, "sptes updated in place by a write"),
            new("prefetched", "pte_write.prefetched", Count, "sptes prefetched by a write"),
            new("prefetch skipped", "pte_write.prefetch_skipped", Count, "prefetches skipped"),
            Zapped, ZapMisaligned, ZapFlooded, ZapUnprotect, ZapReclaim, ZapSync, ZapOther,
            new("roots in use", "zap.roots_in_use", Count, "zapped pages that were a vCPU's root"),
            new("zaps of dead pages", "flooding.zaps_page_dead", Count, "flood zaps of a gfn no longer a page table (guest ground truth)"),
            new("zaps of live pages", "flooding.zaps_page_live", Count, "flood zaps of a gfn still a page table"),
            new("emulations on dead pages", "flooding.emulations_on_dead_pages", Count, "writes emulated on a gfn no longer a page table"),
            new("desc allocations", "desc_cache.allocations", Count, "pte_list_desc allocations"),
            new("desc top-ups", "desc_cache.topups", Count, "per-vCPU cache top-ups"),
            DescExhausted,
            new("shadow faults", "shadow.faults", Count, "shadow page faults handled"),
            new("pages created", "shadow.pages_created", Count, "shadow pages created"),
            new("prefetched", "shadow.prefetched", Count, "sptes prefetched on a fault"),
            new("unsync", "shadow.unsync", Count, "shadow pages marked unsync"),
            new("resync", "shadow.resync", Count, "unsync pages synced"),
            new("remote flushes", "shadow.remote_flushes", Count, "remote TLB flushes requested"),
            new("2D walks (tdp)", "tdp.walks", Count, "estimated guest TLB misses walked in two dimensions under policy tdp"),
            new("2D walk cycles (tdp)", "tdp.walk_cycles", Cycles, "tdp.walks times cost.tdp_walk"),
            LockAcquisitions,
            new("mmu_lock hold (cycles)", "mmu_lock.hold_cycles", Cycles, "cycles mmu_lock was held"),
            LockWait,
            new("contended", "mmu_lock.contended", Count, "acquisitions that waited"),
            LockWaitP50, LockWaitP99, LockWaitMax,
        };
        foreach (var site in LockSites.All)
            foreach (string field in new[] { "acquisitions", "hold_cycles", "wait_cycles" })
                f.Add(BySite(site, field));
        f.AddRange(
        [
            new("processes", "guest.processes", Count, "guest processes run"),
            new("forks", "guest.forks", Count, "guest forks"),
            new("execs", "guest.execs", Count, "guest execs"),
            new("guest page faults", "guest.page_faults", Count, "page faults the guest kernel handled"),
            new("page-table pages allocated", "guest.pt_pages_allocated", Count, "guest page-table pages allocated"),
            new("page-table pages freed", "guest.pt_pages_freed", Count, "guest page-table pages freed"),
            new("context switches", "guest.context_switches", Count, "guest context switches"),
        ]);
        return f;
    }
}
