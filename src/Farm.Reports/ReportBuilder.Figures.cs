namespace Farm.Reports;

/// <summary>The figures the tables and plots show.</summary>
public static partial class ReportBuilder
{
    public const string Elapsed = "time.elapsed_seconds";

    /// <summary>The figures under a cover letter's timing that explain the difference (means over completed runs).</summary>
    public static readonly IReadOnlyList<(string Label, string Figure)> Explaining =
    [
        ("exits", "exits.total"),
        ("write-protect exits", "exits.write_protect"),
        ("emulated instructions", "emulation.instructions"),
        ("emulated elements", "emulation.elements"),
        ("retried", "emulation.retried"),
        ("kvm_mmu_pte_write calls", "pte_write.calls"),
        ("zapped: misaligned", "zap.misaligned"),
        ("zapped: flooded", "zap.flooded"),
        ("zapped: unprotect", "zap.unprotect"),
        ("zapped: reclaim", "zap.reclaim"),
        ("zapped: left empty by sync", "zap.sync"),
        ("forced exits (remote flush/reload IPIs)", "exits.ipi"),
        ("mmu_lock acquisitions", "mmu_lock.acquisitions"),
        ("mmu_lock wait (cycles)", "mmu_lock.wait_cycles"),
        ("mmu_lock wait p99 (cycles)", "mmu_lock.wait_p99"),
        ("desc cache exhausted", "desc_cache.exhausted"),
    ];

    internal static readonly (string Name, string Figure)[] ExitReasons =
        [("page fault", "exits.page_fault"), ("write protect", "exits.write_protect"), ("cr3", "exits.cr3"), ("invlpg", "exits.invlpg"), ("ipi (forced)", "exits.ipi")];
    private static readonly (string Name, string Figure)[] EmulationKinds =
        [("emulated instructions", "emulation.instructions"), ("retried (unprotected, re-executed)", "emulation.retried")];
    private static readonly (string Name, string Figure)[] WriteWidths =
        [("1 byte", "pte_write.bytes_1"), ("4 bytes", "pte_write.bytes_4"), ("8 bytes", "pte_write.bytes_8"), ("other", "pte_write.bytes_other")];
    internal static readonly (string Name, string Figure)[] ZapReasons =
        [("misaligned", "zap.misaligned"), ("flooded", "zap.flooded"), ("unprotect", "zap.unprotect"), ("reclaim", "zap.reclaim"), ("sync (left empty)", "zap.sync"), ("other", "zap.other")];
    private static readonly string[] LockSites = ["page_fault", "pte_write", "unprotect", "cr3", "invlpg", "reclaim"];
    private static readonly (string Name, string Figure)[] WaitPercentiles =
        [("p50", "mmu_lock.wait_p50"), ("p99", "mmu_lock.wait_p99"), ("max", "mmu_lock.wait_max")];
}
