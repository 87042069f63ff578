using Farm.Simulation.Results;
using Farm.Simulation.Config;
using Farm.Simulation.Kvm;
using Farm.Simulation.Workloads.Micro;
using Xunit;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// Policy tdp (docs/tdp.md): KVM 3.3's direct MMU on EPT. The guest's own faults, table writes,
/// CR3 writes and invlpg take no exit; the only exits are EPT violations, one per guest frame on
/// its first touch; direct shadow pages (role.direct) are keyed by the gfn their range starts at.
/// </summary>
public class TdpTests
{
    /// <summary>Figures of the shadow MMU's write path that a direct MMU never produces.</summary>
    private static readonly string[] ShadowOnly =
        ["exits.page_fault", "exits.write_protect", "exits.cr3", "exits.invlpg", "exits.ipi", "emulation.instructions", "emulation.elements",
         "emulation.retried", "pte_write.calls", "zap.pages", "shadow.unsync", "shadow.resync", "shadow.prefetched", "shadow.remote_flushes",
         "desc_cache.allocations", "mmu_lock.by_site.pte_write.acquisitions", "mmu_lock.by_site.unprotect.acquisitions",
         "mmu_lock.by_site.invlpg.acquisitions", "mmu_lock.by_site.reclaim.acquisitions"];

    [Fact]
    public void PtClear_NoWriteProtectExit_NoEmulation_OneEptViolationPerFrame()
    {
        var r = MicroHarness.Run("pt-clear", "policy=tdp");
        Assert.Equal(Outcome.Completed, r.Outcome);
        foreach (string f in ShadowOnly) Assert.True(r.Long(f) == 0, $"{f} = {r.Long(f)} under tdp");
        // Frames the guest touches (pool frames, low to high; none is reused before phase 2): process A's
        // pgd, one pud, a pmd and a pt per region (regions are 1 GiB apart: 1 + 1 + 4 + 4 = 10), and
        // its 4 × 8 written data pages (32): 42. Phase 2's tables are A's freed frames, already mapped.
        const long frames = 1 + 1 + 4 + 4 + 4 * 8;
        Assert.Equal(frames, r.Long("exits.ept_violation"));
        Assert.Equal(frames, r.Long("exits.total"));
        Assert.Equal(frames, r.Long("shadow.faults"));
        // tdp_page_fault takes mmu_lock once per violation (site page_fault); kvm_mmu_load twice
        // (mmu_alloc_direct_roots, then mmu_sync_roots' lock, which returns at once for a direct map).
        Assert.Equal(frames, r.Long("mmu_lock.by_site.page_fault.acquisitions"));
        Assert.Equal(2, r.Long("mmu_lock.by_site.cr3.acquisitions"));
        // Direct pages: the root (level 4, gfn 0), the level-3 page of gpa 0-512 GiB and the level-2
        // page of 0-1 GiB (both keyed gfn 0), and one leaf page: every frame lies in 0-2 MiB (256 MiB
        // guest, one vCPU: the pool starts at gfn 18 and the trial uses 42 frames of it).
        Assert.Equal(4, r.Long("shadow.pages_created"));
        // Each of the 32 user writes walks twice: the first walk finds no guest pte (the guest's own
        // #PF, no exit), the retry hits (its frames were mapped when the kernel cleared them).
        Assert.Equal(2 * 4 * 8, r.Long("tdp.walks"));
        Assert.Equal(2 * 4 * 8 * 200, r.Long("tdp.walk_cycles"));
    }

    [Fact]
    public void PtClear_Phase2_RecycledTablesAreClearedNatively()
    {
        MmuStats? before = null;
        long[]? locks = null;
        var vm = MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            await PtClearWorkload.MapAndExit(v, 4, 8);
            before = MicroHarness.Snapshot(v.Vm.Mmu);
            locks = MicroHarness.LockSnapshot(v.Vm.Mmu);
            await PtClearWorkload.BuildTables(v, 4);
        }, "policy=tdp");
        var after = vm.Mmu.Stats;
        // The kvm-3.1 run of this phase emulates 512 elements per stale non-leaf table under
        // mmu_lock (PtClearTests); under tdp every clear_page and set_pte of B's tables runs in the
        // guest on frames A left mapped: no exit, no lock.
        Assert.Equal(0, after.ExitsEptViolation - before!.ExitsEptViolation);
        Assert.Equal(0, after.EmulatedElements);
        Assert.Equal(locks!, MicroHarness.LockSnapshot(vm.Mmu));
    }

    [Fact]
    public void Wrprotect_EptMapsExactlyTheFramesTheGuestTouched()
    {
        var vm = MicroHarness.RunScript(async v => await new WrprotectWorkload().RunVcpu(v, ConfigWith("workload.pages=64")), "policy=tdp");
        var s = vm.Mmu.Stats;
        // pgd, pud, pmd, pt (4) and 64 data pages: frames pool.First .. pool.First + 67. Each
        // lock andb of ptep_set_wrprotect is a native store in an already mapped table.
        const long frames = 4 + 64;
        Assert.Equal(frames, s.ExitsEptViolation);
        Assert.Equal(0, s.ExitsWriteProtect + s.EmulatedInstructions + s.PteWriteCalls);
        var pool = vm.Vcpus[0].Pool;
        for (ulong g = 0; g < vm.Memory.FrameCount; g++)
        {
            bool touched = g >= pool.First && g < pool.First + (ulong)frames;
            Assert.True(touched == vm.Mmu.KernelMapWritable(g), $"gfn {g}: EPT-mapped {!touched}, touched {touched}");
            // One spte per mapped frame (rmap_add of mmu_set_spte), none for the rest.
            Assert.Equal(touched ? 1 : 0, vm.Mmu.RmapCount(g));
        }
        // A direct MMU shadows no guest table: nothing is write-protected or accounted.
        Assert.Equal(0, vm.Mmu.IndirectShadowPages);
    }

    [Fact]
    public void DirectPages_AreKeyedByTheGfnTheirRangeStartsAt()
    {
        // 2 vCPUs, 512 MiB: vCPU 1's pool starts past 256 MiB, in another 2 MiB range and under
        // the same level-2 page (0-1 GiB): one more leaf page than one vCPU needs, and the root is
        // one page shared through the hash (kvm_mmu_get_page's hit for gfn 0, level 4, direct).
        var r = MicroHarness.Run("wrprotect", "policy=tdp", "vm.vcpus=2", "vm.memory_mb=512");
        Assert.Equal(Outcome.Completed, r.Outcome);
        Assert.Equal(2 * (4 + 64), r.Long("exits.ept_violation"));
        Assert.Equal(3 + 2, r.Long("shadow.pages_created"));
        Assert.Equal(2 * 2, r.Long("mmu_lock.by_site.cr3.acquisitions"));
    }

    [Fact]
    public void Preset_IsKvm33sSwitches_AndTheWalkCostIsAKey()
    {
        var tdp = SimConfig.Resolve(MicroHarness.Pairs(["policy=tdp"]));
        var k33 = SimConfig.Resolve(MicroHarness.Pairs(["policy=kvm-3.3"]));
        foreach (var (key, value) in ConfigSchema.Preset("kvm-3.3")) Assert.Equal(value, tdp.Text(key));
        Assert.Equal(k33.Values.Where(kv => kv.Key != "policy"), tdp.Values.Where(kv => kv.Key != "policy"));
        var cheap = MicroHarness.Run("pt-clear", "policy=tdp", "cost.tdp_walk=0");
        var dear = MicroHarness.Run("pt-clear", "policy=tdp", "cost.tdp_walk=1000");
        // Only the walks' own cycles move: 64 walks × 1000 cycles on one vCPU.
        Assert.Equal(64 * 1000, dear.Long("time.elapsed_cycles") - cheap.Long("time.elapsed_cycles"));
    }

    [Fact]
    public void ThirtyTwoBitGuest_UsesTheSameFourLevelEpt()
    {
        var r = MicroHarness.Run("pt-clear", "policy=tdp", "vm.paging=i386", "guest.flavour=linux-3.x-i386");
        Assert.True(r.Outcome == Outcome.Completed, r.Error);
        Assert.Equal(0, r.Long("exits.write_protect") + r.Long("emulation.elements"));
        // get_ept_level() is 4 whatever the guest's mode: root, level 3, level 2, one leaf page.
        Assert.Equal(4, r.Long("shadow.pages_created"));
    }

    [Theory]
    [InlineData("pt-clear", 1)]
    [InlineData("wrprotect", 1)]
    [InlineData("flood-reuse", 1)]
    [InlineData("prefetch-drain", 1)]
    [InlineData("pt-clear", 4)]
    [InlineData("flood-reuse", 4)]
    public void ThreePresets_RunTheSameGuest(string kind, int vcpus)
    {
        // Common random numbers: the guest's work depends on its own state and per-vCPU streams,
        // never on what the MMU costs, so kvm-3.1 / kvm-3.3 / tdp differ by the policies alone.
        // (continue_after_bug: prefetch-drain ends kvm-3.1 as host-bug otherwise.)
        var results = new[] { "kvm-3.1", "kvm-3.3", "tdp" }
            .Select(p => MicroHarness.Run(kind, $"policy={p}", $"vm.vcpus={vcpus}", "mmu.continue_after_bug=true", "seed=3")).ToList();
        Assert.All(results, r => Assert.True(r.Outcome == Outcome.Completed, r.Error));
        string Guest(Results.TrialResult r) => r.Root["guest"]!.ToJsonString();
        Assert.Equal(Guest(results[0]), Guest(results[1]));
        Assert.Equal(Guest(results[0]), Guest(results[2]));
        Assert.True(results[0].Long("guest.page_faults") > 0);
        // The guest's exits of the shadow presets are gone under tdp: what is left are EPT violations.
        Assert.Equal(results[2].Long("exits.ept_violation"), results[2].Long("exits.total"));
        Assert.Equal(0, results[0].Long("exits.ept_violation") + results[1].Long("exits.ept_violation"));
    }

    [Fact]
    public void TinyBudget_ReclaimsDirectPages_AndEachVcpuReloadsOntoItsOwnRoot()
    {
        // 64 vCPUs, each faulting in pages at the low end of its own frame pool (1/64 of guest memory,
        // 4 MiB apart): the direct map needs a root, a level-3 and a level-2 page and a leaf page per
        // 2 MiB touched, more than KVM's smallest budget, 64 (KVM_MIN_ALLOC_MMU_PAGES; smaller is
        // refused). Faults then reclaim (fewer than 5 free) until 25 are free, oldest first: the shared
        // root, made first, is zapped while every vCPU uses it; KVM_REQ_MMU_RELOAD makes each vCPU
        // load a new root at its next entry, one vCPU after another. The gate must ask about the
        // vCPU's own root: a vCPU on the new root would otherwise see the others' old mappings and
        // never fault (it looped).
        const int vcpus = 64;
        var tiny = MicroHarness.Run("wrprotect", "policy=tdp", "mmu.pages_max=64", $"vm.vcpus={vcpus}");
        var normal = MicroHarness.Run("wrprotect", "policy=tdp", $"vm.vcpus={vcpus}");
        Assert.True(normal.Long("shadow.pages_created") > 64, $"{normal.Long("shadow.pages_created")} pages fit the budget: nothing to reclaim");
        Assert.Equal(0, normal.Long("zap.pages"));
        Assert.True(tiny.Outcome == Outcome.Completed, tiny.Error);
        Assert.Equal(normal.Root["guest"]!.ToJsonString(), tiny.Root["guest"]!.ToJsonString());
        Assert.True(tiny.Long("zap.reclaim") > 0);
        Assert.True(tiny.Long("zap.roots_in_use") > 0);
        // Reclaimed frames fault again; loads of new roots take mmu_lock at site cr3 beyond the 2 per
        // vCPU of the first entries (all the normal run takes); the other vCPUs in guest mode are
        // kicked by the reload requests.
        Assert.True(tiny.Long("exits.ept_violation") > normal.Long("exits.ept_violation"));
        Assert.Equal(2 * vcpus, normal.Long("mmu_lock.by_site.cr3.acquisitions"));
        Assert.True(tiny.Long("mmu_lock.by_site.cr3.acquisitions") > 2 * vcpus);
        Assert.True(tiny.Long("exits.ipi") > 0);
    }

    private static SimConfig ConfigWith(params string[] sets) =>
        SimConfig.Resolve(MicroHarness.Pairs(["policy=tdp", .. sets]), new WrprotectWorkload().Keys);
}
