using Farm.Simulation.Config;

namespace Farm.Simulation.Workloads.Kernbench;

/// <summary>
/// The <c>workload.*</c> keys of the kernbench workload with their defaults, in one place.
/// docs/kernbench.md derives every default from the sources in <see cref="Calibration"/>.
/// </summary>
public static class KernbenchKeys
{
    public const string Jobs = "workload.jobs";
    public const string Units = "workload.units";
    public const string Scale = "workload.scale";
    public const string Timeslice = "workload.timeslice_cycles";
    public const string Spread = "workload.spread_pct";
    public const string Retouch = "workload.retouch_pages";
    public const string ChildWrites = "workload.child_writes";
    public const string ParentWrites = "workload.parent_writes";
    public const string LibcPages = "workload.libc_pages";

    /// <summary>The programs with their own distributions: (name, text pages, anonymous pages, cycles, what it is).</summary>
    public static readonly IReadOnlyList<(string Name, long Text, long Anon, long Cycles, string What)> Programs =
    [
        ("make", 40, 300, 4_000_000, "make (one per vCPU; cycles are per dispatched job)"),
        ("sh", 10, 12, 1_500_000, "the shell running one compile command (dash)"),
        ("gcc", 60, 150, 6_000_000, "the compiler driver"),
        ("cc1", 1_200, 4_925, 564_000_000, "the compiler proper (anon pages and cycles scale with the unit's size)"),
        ("as", 150, 700, 70_000_000, "the assembler (anon pages and cycles scale with the unit's size)"),
        ("helper", 6, 10, 1_000_000, "each of fixdep, rm and mv after the compile"),
        ("ld", 300, 12_000, 5_000_000_000, "the final link of vmlinux"),
    ];

    public static string TextKey(string program) => $"workload.{program}.text_pages";
    public static string AnonKey(string program) => $"workload.{program}.anon_pages";
    public static string CyclesKey(string program) => $"workload.{program}.cycles";

    public static IReadOnlyList<ConfigKey> All { get; } = Build();

    private static ConfigKey[] Build()
    {
        var keys = new List<ConfigKey>
        {
            new(Jobs, ConfigType.Int, "8", "make -j: concurrent compile jobs in total, spread over the vCPUs", Min: 1, Max: 4096),
            new(Units, ConfigType.Int, "4160", "compile units of a whole build (scale 1); each creates 7 processes", Min: 1, Max: 10_000_000),
            new(Scale, ConfigType.Double, "1", "fraction of a whole defconfig build (the number of units scales with it)", Min: 0, Max: 1000),
            new(Timeslice, ConfigType.Int, "22500000", "compute between two context switches among runnable processes of a vCPU", Min: 1000),
            new(Spread, ConfigType.Int, "50", "sizes and cycles are uniform in mean +/- this percent", Min: 0, Max: 95),
            new(Retouch, ConfigType.Int, "16", "mapped pages a process reads again each time it is switched in", Min: 0, Max: 4096),
            new(ChildWrites, ConfigType.Int, "2", "pages a forked child writes before it execs (COW faults)", Min: 0, Max: 64),
            new(ParentWrites, ConfigType.Int, "3", "pages a parent writes after each fork returns (COW faults)", Min: 0, Max: 64),
            new(LibcPages, ConfigType.Int, "40", "pages of ld.so and libc every exec'd process touches", Min: 0, Max: 4096),
        };
        foreach (var (name, text, anon, cycles, what) in Programs)
        {
            keys.Add(new(TextKey(name), ConfigType.Int, text.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"{what}: pages of its binary touched (mean)", Min: 0, Max: 1 << 20));
            keys.Add(new(AnonKey(name), ConfigType.Int, anon.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"{what}: anonymous and private pages written, heap, stack and data (mean, at least {AddressLayout.FixedWrites})",
                Min: AddressLayout.FixedWrites, Max: 1 << 20));
            keys.Add(new(CyclesKey(name), ConfigType.Int, cycles.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"{what}: user compute in guest cycles (mean)", Min: 0));
        }
        return [.. keys];
    }
}
