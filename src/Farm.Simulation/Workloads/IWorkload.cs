using Farm.Simulation.Config;
using Farm.Simulation.Guest;

namespace Farm.Simulation.Workloads;

/// <summary>A kind of workload: its own <c>workload.*</c> keys, the files it maps, and what each vCPU runs.</summary>
public interface IWorkload
{
    string Kind { get; }
    string Description { get; }
    IReadOnlyList<ConfigKey> Keys { get; }
    IReadOnlyList<(string Name, ulong Pages)> Files(SimConfig config) => [];
    ValueTask RunVcpu(GuestVcpu vcpu, SimConfig config);
}

public static class WorkloadRegistry
{
    private static readonly IWorkload[] All =
    [
        new Micro.PtClearWorkload(),
        new Micro.WrprotectWorkload(),
        new Micro.PrefetchDrainWorkload(),
        new Micro.FloodReuseWorkload(),
        new Micro.PaeHighHalfWorkload(),
        new Kernbench.KernbenchWorkload(),
    ];

    public static IReadOnlyList<string> Kinds { get; } = All.Select(w => w.Kind).ToArray();

    public static IWorkload Get(string kind) => All.FirstOrDefault(w => w.Kind == kind)
        ?? throw new ConfigException($"workload kind '{kind}' is not known; valid: {string.Join(", ", Kinds)}");
}

/// <summary>Address-space helpers shared by workloads.</summary>
public static class GuestLayout
{
    public const ulong GiB = 1UL << 30;
    public const ulong MiB = 1UL << 20;
    public const ulong Page = 4096;
}
