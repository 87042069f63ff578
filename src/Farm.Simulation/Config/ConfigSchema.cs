namespace Farm.Simulation.Config;

/// <summary>
/// Every configuration key of Farm, shared by the CLI (--set), workload files and sweep axes.
/// Defaults live here and only here; docs/costs.md gives the source of each cost default.
/// </summary>
public static class ConfigSchema
{
    public const string ModelVersion = "farm-model-5";

    public static readonly IReadOnlyList<ConfigKey> Keys =
    [
        new("policy", ConfigType.Choice, "kvm-3.3", "preset of the mmu.* switches; tdp: KVM 3.3's direct MMU on EPT/NPT instead of shadow paging (docs/tdp.md)", ["kvm-3.1", "kvm-3.3", "tdp"]),
        new("seed", ConfigType.Int, "1", "trial seed (per-vCPU random streams derive from it)", Min: 0),
        new("engine", ConfigType.Choice, "actors", "how the trial runs: on actors, or on the sequential reference engine; results are identical", ["actors", "sequential"]),

        // The four fixes of the series, each alone (see KVM-MODEL.md); presets set them.
        new("mmu.topup_on_pte_write", ConfigType.Bool, "true", "fix 1: top up the desc cache in kvm_mmu_pte_write and skip prefetch when no desc is free"),
        new("mmu.retry_non_pt_writes", ConfigType.Bool, "true", "fix 2: unprotect and re-execute faulting instructions that are not page-table writes (EMULTYPE_RETRY)"),
        new("mmu.allow_low_byte_write", ConfigType.Bool, "true", "fix 3: a 1-byte write at a pte-aligned offset is not misaligned"),
        new("mmu.flood_detector", ConfigType.Choice, "write-count", "fix 4: 3.1's last-speculative-spte detector or 3.3's per-page write_flooding_count", ["last-spte-accessed", "write-count"]),
        new("mmu.flood_threshold", ConfigType.Int, "3", "writes that count as flooding", Min: 1, Max: 1_000_000),
        new("mmu.invlpg_direct", ConfigType.Bool, "true", "3.3 invlpg: one lock, drop and re-read the spte, no nested kvm_mmu_pte_write"),
        new("mmu.prefetch", ConfigType.Bool, "true", "prefetch up to 8 neighbouring sptes on a shadow fault"),
        new("mmu.unsync", ConfigType.Bool, "true", "allow leaf shadow pages to go out of sync (3.1's oos_shadow)"),
        new("mmu.pages_max", ConfigType.Int, "0", "shadow-page budget; 0 = KVM's default (2% of guest pages, at least 64); else at least 64, KVM's minimum (KVM_MIN_ALLOC_MMU_PAGES)", Min: 0, Max: 1 << 24),
        new("mmu.continue_after_bug", ConfigType.Bool, "false", "count a BUG_ON (desc cache empty) and go on instead of ending the trial as host-bug"),

        new("vm.vcpus", ConfigType.Int, "1", "vCPUs of the VM", Min: 1, Max: 64),
        new("vm.paging", ConfigType.Choice, "x86-64", "guest paging mode (x86-64 4-level; i386 2-level non-PAE; pae 32-bit 3-level PAE); guest.flavour must match it", ["x86-64", "i386", "pae"]),
        new("vm.memory_mb", ConfigType.Int, "256", "guest memory in MiB", Min: 4, Max: 65536),
        new("vm.direct_map", ConfigType.Choice, "sptes", "the guest kernel's direct map: real guest tables (2 MiB/4 MiB pages) shadowed by 4 KiB sptes through the shadow fault path (sptes), or one writable bit per frame, the farm-model-2 simplification (bit); a PAE guest (vm.paging: pae) always uses the bit, and under policy tdp the guest keeps the tables but they are walked through EPT, never shadowed (docs/model-decisions.md)", ["sptes", "bit"]),
        new("guest.flavour", ConfigType.Choice, "linux-3.x", "which machine code implements the guest kernel's page-table routines",
            ["linux-3.x", "linux-3.x-erms", "recent", "linux-3.x-i386", "linux-3.x-pae"]),

        // Costs in guest cycles. Sources: docs/costs.md. Plausible: the range docs/costs.md gives for the
        // default (sensitivity sweeps draw from it); Min/Max are what the key accepts at all.
        new("cost.guest_ghz", ConfigType.Double, "2.5", "guest clock in GHz (converts cycles to seconds)", Min: 0, Max: 100, Plausible: new(2.13, 2.67)),
        new("cost.exit", ConfigType.Int, "1600", "VM exit plus entry", Min: 0, Plausible: new(1350, 2000)),
        new("cost.emulate", ConfigType.Int, "2400", "decode and emulate one instruction (per emulation entry)", Min: 0, Plausible: new(2000, 2900)),
        new("cost.emulate_element", ConfigType.Int, "450", "per emulated write element (guest memory write)", Min: 0, Plausible: new(330, 620)),
        new("cost.walk_level", ConfigType.Int, "80", "guest page-table walk, per level", Min: 0, Plausible: new(55, 100)),
        new("cost.shadow_level", ConfigType.Int, "30", "shadow fetch, per level passed", Min: 0, Plausible: new(20, 50)),
        new("cost.spte_install", ConfigType.Int, "60", "install one spte", Min: 0, Plausible: new(30, 120)),
        new("cost.rmap_op", ConfigType.Int, "40", "one rmap or parent-list add or remove", Min: 0, Plausible: new(20, 70)),
        new("cost.zap_page", ConfigType.Int, "1000", "zap one shadow page (fixed part)", Min: 0, Plausible: new(850, 1300)),
        new("cost.zap_spte", ConfigType.Int, "80", "zap: per present spte dropped", Min: 0, Plausible: new(20, 200)),
        new("cost.remote_flush", ConfigType.Int, "2500", "remote TLB flush (IPI to the other vCPUs; nothing to send with one vCPU)", Min: 0, Plausible: new(2500, 7500)),
        new("cost.ipi_exit", ConfigType.Int, "3000", "a forced exit of a vCPU kicked by a remote flush or reload request (exit, IPI handler, request, TLB refill)", Min: 0, Plausible: new(1600, 6000)),
        new("cost.lock_acquire", ConfigType.Int, "40", "uncontended spin_lock plus unlock", Min: 0, Plausible: new(25, 100)),
        new("cost.hash_walk", ConfigType.Int, "10", "per shadow page examined in a hash bucket", Min: 0, Plausible: new(4, 40)),
        new("cost.topup", ConfigType.Int, "60", "per object allocated by a memory-cache topup", Min: 0, Plausible: new(40, 80)),
        new("cost.sync_spte", ConfigType.Int, "60", "resync: per guest pte compared", Min: 0, Plausible: new(50, 75)),
        new("cost.native_store", ConfigType.Int, "1", "per guest instruction executed natively (routines are mostly stores)", Min: 0, Plausible: new(1, 2)),
        new("cost.native_bytes_per_cycle", ConfigType.Int, "16", "guest native rep stos/movs throughput", Min: 1, Plausible: new(4, 16)),
        new("cost.guest_fault", ConfigType.Int, "1000", "guest kernel #PF handling (excluding its page-table writes)", Min: 0, Plausible: new(600, 1800)),
        new("cost.context_switch", ConfigType.Int, "2000", "guest context switch (excluding the CR3 exit)", Min: 0, Plausible: new(1500, 5000)),
        new("cost.syscall", ConfigType.Int, "20000", "guest fork/exec/exit bookkeeping per call", Min: 0, Plausible: new(5000, 100000)),
        new("cost.tdp_walk", ConfigType.Int, "200", "policy tdp: extra cycles of a two-dimensional (EPT/NPT) walk over a native one, per guest TLB miss (docs/tdp.md)", Min: 0, Plausible: new(50, 800)),
    ];

    private static readonly Dictionary<string, ConfigKey> ByName = Keys.ToDictionary(k => k.Name);

    public static bool TryGet(string name, out ConfigKey key) => ByName.TryGetValue(name, out key!);

    /// <summary>The mmu.* switches each preset sets (explicit keys override them).</summary>
    public static IReadOnlyDictionary<string, string> Preset(string policy) => policy switch
    {
        "kvm-3.1" => new Dictionary<string, string>
        {
            ["mmu.topup_on_pte_write"] = "false",
            ["mmu.retry_non_pt_writes"] = "false",
            ["mmu.allow_low_byte_write"] = "false",
            ["mmu.flood_detector"] = "last-spte-accessed",
            ["mmu.invlpg_direct"] = "false",
        },
        "kvm-3.3" => new Dictionary<string, string>
        {
            ["mmu.topup_on_pte_write"] = "true",
            ["mmu.retry_non_pt_writes"] = "true",
            ["mmu.allow_low_byte_write"] = "true",
            ["mmu.flood_detector"] = "write-count",
            ["mmu.invlpg_direct"] = "true",
        },
        // KVM 3.3 with tdp_enabled: the same kernel as kvm-3.3, so the same switches (they only act
        // on indirect shadow pages, which a direct MMU never creates).
        "tdp" => Preset("kvm-3.3"),
        _ => throw new ConfigException($"policy: '{policy}' is not valid; valid: kvm-3.1, kvm-3.3, tdp"),
    };
}
