using Farm.Simulation.Config;
using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Workloads.Micro;

/// <summary>
/// Problem 4 of the series: write-flood detection. A process exits, and the kernel takes a
/// freed page-table page (its former pgd, still shadowed by a non-leaf page) as a data buffer
/// and fills it with 8-byte stores (the set_pte routine's mov serves as the store). Every
/// <c>workload.touch_every</c> stores, the running process demand-faults a new page; in 3.1
/// those faults reset the per-vCPU detector, in 3.3 the per-page count does not care.
/// </summary>
public sealed class FloodReuseWorkload : IWorkload
{
    public string Kind => "flood-reuse";
    public string Description => "a freed page-table page reused as a data buffer and written repeatedly";

    public IReadOnlyList<ConfigKey> Keys { get; } =
    [
        new("workload.writes", ConfigType.Int, "32", "8-byte stores into the reused page", Min: 1, Max: 512),
        new("workload.touch_every", ConfigType.Int, "1", "stores between two demand faults of the process (0: none)", Min: 0, Max: 512),
    ];

    public async ValueTask RunVcpu(GuestVcpu v, SimConfig c)
    {
        int writes = (int)c.Int("workload.writes");
        int touchEvery = (int)c.Int("workload.touch_every");
        await v.SwitchTo(null);
        var a = await v.CreateProcess([new Vma(GiB, GiB + 4 * MiB, VmaKind.Anonymous, Writable: true)]);
        await v.SwitchTo(a);
        await v.Touch(a, GiB, write: true);
        await v.Exit(a, next: null);

        ulong buffer = v.Pool.Alloc(); // a kernel buffer page: A's pgd, from the hot end
        v.Vm.Frames.Use[buffer] = FrameUse.Data;
        var b = await v.CreateProcess([new Vma(GiB, GiB + 4 * MiB, VmaKind.Anonymous, Writable: true)]);
        await v.SwitchTo(b);
        await v.Touch(b, GiB, write: true);
        int touched = 1;
        for (int i = 0; i < writes; i++)
        {
            await v.SetEntry(KernelOp.SetPte, (buffer << 12) + (ulong)(i % 512) * 8, 0x5a5a_0000UL + (ulong)i);
            if (touchEvery > 0 && (i + 1) % touchEvery == 0)
                await v.Touch(b, GiB + (ulong)(touched++ % 1024) * Page, write: true);
        }
    }
}
