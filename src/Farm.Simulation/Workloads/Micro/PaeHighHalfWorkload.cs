using Farm.Simulation.Config;
using Farm.Simulation.Guest;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Workloads.Micro;

/// <summary>
/// Fix 3's PAE detail: a PAE guest's set_pte is two 4-byte stores, the pte's high half first
/// (pgtable-3level.h native_set_pte). A process demand-faults pages one by one into one leaf
/// table that cannot go unsync (the workload file turns mmu.unsync off, as when its gfn also has a
/// non-leaf shadow page), so each set_pte after the first page is emulated, half by half. 3.1
/// measures misalignment from the written offset with the widened size: the high half (offset 4
/// in the pte) is misaligned and the table's shadow page is zapped. 3.3 widens the gpa as well:
/// both halves update the one spte (the low half installs it).
/// </summary>
public sealed class PaeHighHalfWorkload : IWorkload
{
    public string Kind => "pae-high-half";
    public string Description => "demand-fault pages into a PAE page table that cannot go unsync: set_pte writes the pte's high half first";

    public IReadOnlyList<ConfigKey> Keys { get; } =
    [
        new("workload.pages", ConfigType.Int, "64", "pages demand-faulted into one leaf table", Min: 1, Max: 512),
    ];

    public async ValueTask RunVcpu(GuestVcpu v, SimConfig c)
    {
        int pages = (int)c.Int("workload.pages");
        ulong start = GiB; // PDPTE 1: its own page directory and one leaf table (512 pages span 2 MiB)
        await v.SwitchTo(null);
        var p = await v.CreateProcess([new Vma(start, start + (ulong)pages * Page, VmaKind.Anonymous, Writable: true)]);
        await v.SwitchTo(p);
        for (int i = 0; i < pages; i++) await v.Touch(p, start + (ulong)i * Page, write: true);
    }
}
