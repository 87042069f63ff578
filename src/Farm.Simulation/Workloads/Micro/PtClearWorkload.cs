using Farm.Simulation.Config;
using Farm.Simulation.Guest;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Workloads.Micro;

/// <summary>
/// Problem 2 of the series: clearing recycled page-table pages. Process A maps pages in
/// <c>workload.regions</c> regions a table-span apart (its own pud/pmd/pt per region) and exits;
/// its table pages go back to the hot end of the pool, their shadow pages still in place.
/// Then the kernel builds the tables of a new mm before it runs: every table page it clears
/// with clear_page is one of A's, and the non-leaf ones cannot go unsync.
/// </summary>
public sealed class PtClearWorkload : IWorkload
{
    public string Kind => "pt-clear";
    public string Description => "clear recycled page-table pages that still have shadow pages (rep stos)";

    public IReadOnlyList<ConfigKey> Keys { get; } =
    [
        new("workload.regions", ConfigType.Int, "4", "regions, each with its own upper-level tables", Min: 1, Max: 256),
        new("workload.pages_per_region", ConfigType.Int, "8", "pages process A touches per region", Min: 1, Max: 512),
        new("workload.rounds", ConfigType.Int, "1", "times the exit-and-rebuild cycle repeats", Min: 1, Max: 100_000),
    ];

    /// <summary>Region r starts here: one region per top-level-table-index span below the leaf.</summary>
    public static ulong RegionBase(GuestVcpu v, int r) =>
        v.Mode.Levels == 4 ? (ulong)(r + 1) * GiB : (ulong)(r + 1) * 4 * MiB;

    public static Vma[] Mappings(GuestVcpu v, int regions) =>
        [new Vma(RegionBase(v, 0), RegionBase(v, regions), VmaKind.Anonymous, Writable: true)];

    public async ValueTask RunVcpu(GuestVcpu v, SimConfig c)
    {
        int regions = (int)c.Int("workload.regions");
        int pages = (int)c.Int("workload.pages_per_region");
        await v.SwitchTo(null);
        for (long round = 0; round < c.Int("workload.rounds"); round++)
        {
            await MapAndExit(v, regions, pages);
            await BuildTables(v, regions);
        }
    }

    /// <summary>Phase 1: A maps its regions and exits, leaving stale shadow pages behind.</summary>
    public static async ValueTask<GuestProcess> MapAndExit(GuestVcpu v, int regions, int pages)
    {
        var a = await v.CreateProcess(Mappings(v, regions));
        await v.SwitchTo(a);
        for (int r = 0; r < regions; r++)
            for (int p = 0; p < pages; p++)
                await v.Touch(a, RegionBase(v, r) + (ulong)p * Page, write: true);
        await v.Exit(a, next: null);
        return a;
    }

    /// <summary>Phase 2: a new mm's tables, built by the kernel before the process runs. Its tables
    /// are torn down again (it never ran, so nothing of them is shadowed) to end clean.</summary>
    public static async ValueTask BuildTables(GuestVcpu v, int regions)
    {
        var b = await v.CreateProcess(Mappings(v, regions));
        for (int r = 0; r < regions; r++) await v.WalkAlloc(b, RegionBase(v, r));
        await v.Exit(b, next: null);
    }
}
