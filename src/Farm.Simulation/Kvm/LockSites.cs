namespace Farm.Simulation.Kvm;

/// <summary>
/// The one list of <c>mmu_lock</c> call sites (<see cref="LockSite"/>) and their result names
/// (RESULTS.md <c>mmu_lock.by_site.NAME</c>), in the order results, reports and tables show them.
/// </summary>
public static class LockSites
{
    /// <summary>Every site, in <see cref="LockSite"/> order (the index into <see cref="MmuLock"/>'s arrays).</summary>
    public static readonly IReadOnlyList<LockSite> All = Enum.GetValues<LockSite>();

    /// <summary>"page_fault", "pte_write", "unprotect", "cr3", "invlpg", "reclaim".</summary>
    public static string Name(this LockSite site) => site switch
    {
        LockSite.PageFault => "page_fault",
        LockSite.PteWrite => "pte_write",
        LockSite.Unprotect => "unprotect",
        LockSite.Cr3 => "cr3",
        LockSite.Invlpg => "invlpg",
        LockSite.Reclaim => "reclaim",
        _ => throw new ArgumentOutOfRangeException(nameof(site), site, null),
    };
}
