using System.Globalization;

namespace Farm.Simulation.Config;

/// <summary>
/// Bounds past the schema's type and min/max that every value must meet for a trial to run and
/// give a meaningful result: a value accepted here must never make a trial fail or overflow.
/// These are validity bounds (what the model can compute), not plausible ranges for a cost
/// (those are estimates of the real host; docs/costs.md). Reasons: docs/limits.md.
/// </summary>
public static class ConfigValidity
{
    /// <summary>
    /// A cost in cycles per event: 10^9 is 0.4 s of guest time per event at 2.5 GHz, 50,000 times
    /// the largest default (cost.syscall, 20,000). A trial can then count 9 × 10^9 costed events
    /// before a 64-bit cycle sum (9.2 × 10^18) could overflow and wrap to a wrong time.
    /// </summary>
    public const long MaxCostCycles = 1_000_000_000;

    /// <summary>The slowest guest clock, GHz (1 MHz): seconds = cycles / (GHz × 10^9) stays finite for any 64-bit cycle count.</summary>
    public const double MinGuestGhz = 0.001;

    /// <summary>
    /// The smallest shadow-page budget KVM takes: kvm_vm_ioctl_set_nr_mmu_pages refuses fewer than
    /// KVM_MIN_ALLOC_MMU_PAGES with -EINVAL (Linux 3.1.10 and 3.3.8, arch/x86/kvm/x86.c), and the
    /// default budget is never below it either (kvm_mmu_calculate_mmu_pages).
    /// </summary>
    public const int MinPagesMax = Kvm.MmuConstants.KVM_MIN_ALLOC_MMU_PAGES;

    /// <summary>Checks a value already normalised by its <see cref="ConfigKey"/>; throws <see cref="ConfigException"/> naming the key and what is valid.</summary>
    public static void Check(ConfigKey key, string value)
    {
        switch (key.Name)
        {
            case "cost.guest_ghz":
                // cycles / (GHz × 10^9) is the trial's time: a zero clock made every time infinite and every trial fail.
                if (double.Parse(value, CultureInfo.InvariantCulture) < MinGuestGhz)
                    throw new ConfigException($"cost.guest_ghz: {value} is out of range (valid: {MinGuestGhz.ToString(CultureInfo.InvariantCulture)}..{key.Max})");
                break;
            case "mmu.pages_max":
                // 0 asks for KVM's default; a budget below KVM's minimum is one no host can run with.
                long pages = long.Parse(value, CultureInfo.InvariantCulture);
                if (pages is > 0 and < MinPagesMax)
                    throw new ConfigException($"mmu.pages_max: {value} is out of range (valid: 0 for KVM's default, or {MinPagesMax}..{key.Max}; "
                        + $"KVM refuses fewer than KVM_MIN_ALLOC_MMU_PAGES = {MinPagesMax} shadow pages in kvm_vm_ioctl_set_nr_mmu_pages)");
                break;
            case var cost when cost.StartsWith("cost.", StringComparison.Ordinal) && key.Type == ConfigType.Int:
                long cycles = long.Parse(value, CultureInfo.InvariantCulture);
                long max = Math.Min(key.Max, MaxCostCycles);
                if (cycles > max)
                    throw new ConfigException($"{key.Name}: {value} is out of range (valid: {key.Min}..{max})");
                break;
        }
    }
}
