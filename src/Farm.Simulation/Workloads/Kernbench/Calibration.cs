namespace Farm.Simulation.Workloads.Kernbench;

/// <summary>
/// The published kernel-build figures the defaults are calibrated to (docs/kernbench.md).
/// Source: M. Vermeulen, "phoronix/build-linux-kernel" (a defconfig build of Linux 4.13,
/// measured with wspy), http://perf.mvermeulen.com/workloads/phoronix/build-linux-kernel/ —
/// Intel run: 29,135 processes, 31,486,712 minor faults, 1,078.81 s user time; the AMD run of
/// the same build: 29,143 processes, 31,542,640 minor faults.
/// </summary>
public static class Calibration
{
    /// <summary>Processes created by the whole build (wspy "Procs").</summary>
    public const long Processes = 29_135;

    /// <summary>Minor page faults of the whole build (wspy "Minflt"; major faults: 1).</summary>
    public const long MinorFaults = 31_486_712;

    /// <summary>User CPU time of the whole build, summed over all processes, in seconds.</summary>
    public const double UserSeconds = 1_078.81;

    /// <summary>Processes that one compile unit creates in the model: make forks sh; sh forks gcc
    /// and the three helpers (fixdep, rm, mv); gcc forks cc1 and as.</summary>
    public const int ProcessesPerUnit = 7;
}
