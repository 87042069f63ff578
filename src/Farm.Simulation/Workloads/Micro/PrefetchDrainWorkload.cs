using Farm.Simulation.Config;
using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Workloads.Micro;

/// <summary>
/// Problem 1 of the series: the pte_list_desc cache running dry. A process maps
/// <c>workload.pages</c> pages in one table; the kernel then copies that table's present ptes
/// (copy_page: rep movsq) into a second table of the process that is shadowed and cannot go
/// unsync. Each emulated element is a kvm_mmu_pte_write whose prefetch maps an already-mapped
/// page again, so each rmap add takes a desc; only the fault that started the emulation topped
/// the cache up.
/// </summary>
public sealed class PrefetchDrainWorkload : IWorkload
{
    public string Kind => "prefetch-drain";
    public string Description => "copy present ptes into a shadowed table so that prefetch drains the desc cache";

    public IReadOnlyList<ConfigKey> Keys { get; } =
    [
        new("workload.pages", ConfigType.Int, "64", "present ptes in the copied table", Min: 1, Max: 512),
    ];

    public async ValueTask RunVcpu(GuestVcpu v, SimConfig c)
    {
        int pages = (int)c.Int("workload.pages");
        ulong span = v.Mode.Levels == 4 ? 2 * MiB : 4 * MiB; // one leaf table each
        ulong src = GiB, dst = GiB + span;
        await v.SwitchTo(null);
        var p = await v.CreateProcess([new Vma(src, dst + span, VmaKind.Anonymous, Writable: true)]);
        await v.SwitchTo(p);
        for (int i = 0; i < pages; i++) await v.Touch(p, src + (ulong)i * Page, write: true);
        await v.Touch(p, dst, write: true); // the destination table is shadowed now
        ulong srcTable = v.FindPte(p, src) & ~0xfffUL;
        ulong dstTable = v.FindPte(p, dst) & ~0xfffUL;
        await v.Run(KernelOp.CopyPage, dstTable, srcTable, argc: 2);
    }
}
