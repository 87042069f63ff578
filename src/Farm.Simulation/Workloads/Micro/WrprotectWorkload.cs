using Farm.Simulation.Config;
using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Workloads.Micro;

/// <summary>
/// Problem 3 of the series: one-byte status updates. A process demand-faults pages one by one
/// and the kernel write-protects each new pte with ptep_set_wrprotect (the flavour's routine:
/// lock andb for Linux 3.x) in a page table that cannot go unsync (the workload file turns
/// mmu.unsync off, so that the page stays write-protected as it would with a non-leaf shadow
/// page of the same gfn).
/// </summary>
public sealed class WrprotectWorkload : IWorkload
{
    public string Kind => "wrprotect";
    public string Description => "write-protect ptes one byte at a time in a page table that cannot go unsync";

    public IReadOnlyList<ConfigKey> Keys { get; } =
    [
        new("workload.pages", ConfigType.Int, "64", "pages faulted in and then write-protected", Min: 1, Max: 512),
    ];

    public async ValueTask RunVcpu(GuestVcpu v, SimConfig c)
    {
        int pages = (int)c.Int("workload.pages");
        ulong start = GiB;
        await v.SwitchTo(null);
        var p = await v.CreateProcess([new Vma(start, start + (ulong)pages * Page, VmaKind.Anonymous, Writable: true)]);
        await v.SwitchTo(p);
        for (int i = 0; i < pages; i++)
        {
            ulong va = start + (ulong)i * Page;
            await v.Touch(p, va, write: true);
            await v.Run(KernelOp.PtepSetWrprotect, v.FindPte(p, va));
        }
    }
}
