using Farm.Simulation.Config;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Farm.Simulation.X86;

namespace Farm.Simulation.Guest;

/// <summary>
/// A VM: guest memory, the frame bookkeeping, the shared shadow MMU and the vCPUs.
/// Layout (gfns): 1-7 kernel text (the flavour's routines), 8 the zero page, 9 a PAE guest's
/// shared kernel pmd, then a kernel stack and an idle pgd per vCPU, the page cache, and the rest
/// split into per-vCPU pools.
/// </summary>
public sealed partial class GuestVm
{
    private const ulong TextGfn = 1, ZeroPageGfn = 8, PerVcpuBase = 16;
    private readonly Dictionary<string, GuestFile> _files = [];

    public GuestVm(SimConfig config, GuestFlavour flavour, IReadOnlyList<(string Name, ulong Pages)>? files = null)
    {
        Config = config;
        Mode = PagingMode.ByName(config.Text("vm.paging"));
        if (flavour.Paging != Mode.Name || flavour.Bitness != Mode.Bitness)
            throw new ConfigException(PagingPairs.Mismatch(flavour.Name, flavour.Paging, Mode.Name));
        Cost = CostModel.From(config);
        ulong bytes = (ulong)config.Int("vm.memory_mb") << 20;
        if (Mode == PagingMode.I386 && bytes > 1UL << 32)
            throw new ConfigException("vm.memory_mb: a 32-bit non-PAE guest addresses at most 4096 MiB");
        Memory = new GuestMemory(bytes);
        Frames = new FrameTable(Memory.FrameCount);
        int vcpus = (int)config.Int("vm.vcpus");
        ulong seed = (ulong)config.Int("seed");

        var routines = new RoutineImage(flavour, Memory, TextGfn << 12);
        if (routines.End > ZeroPageGfn << 12) throw new ConfigException("guest routines do not fit in the kernel text (28 KiB)");
        for (ulong g = 0; g < ZeroPageGfn; g++) Frames.Use[g] = FrameUse.Kernel;
        ZeroGfn = ZeroPageGfn;
        Frames.Use[ZeroGfn] = FrameUse.Zero;

        ulong next = PerVcpuBase + 2 * (ulong)vcpus;
        for (ulong g = PerVcpuBase; g < next; g++) Frames.Use[g] = FrameUse.Kernel;
        if (Mode.HasPdpt) KernelPmdGfn = BootPaeKernelPmd(vcpus);
        // On a PAE guest the direct map stays one bit per frame (docs/model-decisions.md, "Direct map").
        if (config.Text("vm.direct_map") == "sptes" && !Mode.HasPdpt)
        {
            if (Mode.Bitness == 32 && bytes > KernelDirectMap.MaxLowmem32)
                throw new ConfigException($"vm.memory_mb: a 32-bit guest's direct map covers at most 896 MiB of lowmem (highmem is not modelled); " +
                    $"use vm.memory_mb of at most 896, or vm.direct_map: bit");
            // The direct map's tables follow the idle pgds; vCPU 0's idle pgd is swapper_pg_dir.
            ulong first = next;
            DirectMap = KernelDirectMap.Build(Memory, Mode, PerVcpuBase + 1, ref next);
            for (ulong g = first; g < next; g++) Frames.Use[g] = FrameUse.Kernel;
            for (int i = 1; i < vcpus; i++) DirectMap.CopyKernelHalf(Memory, PerVcpuBase + 2 * (ulong)i + 1);
        }
        foreach (var (name, pages) in files ?? [])
        {
            _files[name] = new GuestFile(name, next, pages);
            for (ulong g = next; g < next + pages; g++) Frames.Use[g] = FrameUse.File;
            next += pages;
        }
        if (next >= Memory.FrameCount) throw new ConfigException($"vm.memory_mb: {config.Int("vm.memory_mb")} MiB is too small for the page cache");
        ulong perVcpu = (Memory.FrameCount - next) / (ulong)vcpus;
        if (perVcpu < 64) throw new ConfigException($"vm.memory_mb: {config.Int("vm.memory_mb")} MiB leaves fewer than 64 frames per vCPU");

        Vcpus = new GuestVcpu[vcpus];
        for (int i = 0; i < vcpus; i++)
        {
            var pool = new FramePool(next + (ulong)i * perVcpu, perVcpu);
            Vcpus[i] = new GuestVcpu(this, i, pool, PerVcpuBase + 2 * (ulong)i, PerVcpuBase + 2 * (ulong)i + 1, routines, seed);
        }
        var policy = MmuPolicy.From(config, Memory.FrameCount);
        // Under tdp the guest's direct map is its own tables, translated by EPT: no shadow state.
        var shadowed = policy.Tdp ? null : DirectMap;
        Mmu = new ShadowMmu(Memory, Mode, policy, Cost, Vcpus.Select(v => v.Kvm).ToArray(), Frames.IsLivePageTable, shadowed);
        if (shadowed is not null)
            foreach (var v in Vcpus) v.EnableDirectMap();
    }

    public SimConfig Config { get; }
    public PagingMode Mode { get; }
    public CostModel Cost { get; }
    public GuestMemory Memory { get; }
    public FrameTable Frames { get; }
    public ShadowMmu Mmu { get; }
    public GuestVcpu[] Vcpus { get; }
    public ulong ZeroGfn { get; }
    /// <summary>The guest kernel's direct map as real tables (vm.direct_map: sptes), or null (bit).</summary>
    public KernelDirectMap? DirectMap { get; }

    public GuestFile File(string name) => _files.TryGetValue(name, out var f) ? f
        : throw new ModelException($"workload maps file '{name}' that it did not declare");
}
