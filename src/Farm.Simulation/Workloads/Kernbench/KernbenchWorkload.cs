using Farm.Simulation.Config;
using Farm.Simulation.Guest;

namespace Farm.Simulation.Workloads.Kernbench;

/// <summary>
/// A model of <c>make -j N</c> over a kernel tree (docs/kernbench.md). For each compile unit make
/// forks a shell; the shell forks the compiler driver, which forks cc1 and then as; then the shell
/// forks fixdep, rm and mv. Every forked child execs its program. vCPU i runs units i, i+N, ...
/// with its share of the job slots, time-sliced; vCPU 0 ends with the link. Defaults are
/// calibrated to a Linux 4.13 defconfig build (<see cref="Calibration"/>).
/// </summary>
public sealed class KernbenchWorkload : IWorkload
{
    public string Kind => "kernbench";
    public string Description => "make -j N over a kernel tree: fork/exec of sh, gcc, cc1, as per compile unit, time-sliced";
    public IReadOnlyList<ConfigKey> Keys => KernbenchKeys.All;

    public IReadOnlyList<(string Name, ulong Pages)> Files(SimConfig config) => AddressLayout.Files;

    public ValueTask RunVcpu(GuestVcpu vcpu, SimConfig config) =>
        new VcpuScheduler(vcpu, KernbenchSettings.From(config)).Run();
}
