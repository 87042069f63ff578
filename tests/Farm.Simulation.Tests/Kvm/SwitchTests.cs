using Farm.Simulation.Guest;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;
using Farm.Simulation.Results;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>Each policy switch alone on top of kvm-3.1 moves the figure it is about.</summary>
public class SwitchTests
{
    [Fact]
    public void RetryAlone_TurnsRepStosEmulationIntoRetries()
    {
        var before = MicroHarness.Run("pt-clear", "policy=kvm-3.1");
        var retry = MicroHarness.Run("pt-clear", "policy=kvm-3.1", "mmu.retry_non_pt_writes=true");
        Assert.Equal(0, before.Long("emulation.retried"));
        Assert.True(retry.Long("emulation.retried") > 0);
        Assert.True(retry.Long("mmu_lock.by_site.pte_write.acquisitions") * 50 < before.Long("mmu_lock.by_site.pte_write.acquisitions"));
    }

    [Fact]
    public void WriteCountDetectorAlone_ZapsTheReusedPageLikeKvm33()
    {
        var before = MicroHarness.Run("flood-reuse", "policy=kvm-3.1");
        var fixedOnly = MicroHarness.Run("flood-reuse", "policy=kvm-3.1", "mmu.flood_detector=write-count");
        var after = MicroHarness.Run("flood-reuse", "policy=kvm-3.3");
        Assert.True(before.Long("flooding.emulations_on_dead_pages") > fixedOnly.Long("flooding.emulations_on_dead_pages"));
        Assert.True(fixedOnly.Long("zap.flooded") >= 1);
        Assert.True(after.Long("flooding.emulations_on_dead_pages") <= fixedOnly.Long("flooding.emulations_on_dead_pages"));
    }

    [Fact]
    public void FloodThreshold_IsTheNumberOfWrites()
    {
        var three = MicroHarness.Run("flood-reuse", "policy=kvm-3.3");
        var five = MicroHarness.Run("flood-reuse", "policy=kvm-3.3", "mmu.flood_threshold=5");
        Assert.Equal(2, five.Long("flooding.emulations_on_dead_pages") - three.Long("flooding.emulations_on_dead_pages"));
    }

    [Fact]
    public void PrefetchOff_InstallsNoSpeculativeSptes()
    {
        var on = MicroHarness.Run("wrprotect", "policy=kvm-3.1", "mmu.unsync=false");
        var off = MicroHarness.Run("wrprotect", "policy=kvm-3.1", "mmu.unsync=false", "mmu.prefetch=false");
        Assert.True(on.Long("shadow.prefetched") > 0);
        Assert.Equal(0, off.Long("shadow.prefetched"));
    }

    [Fact]
    public void SmallPageBudget_Reclaims()
    {
        // Process A of pt-clear maps 40 regions a GiB apart. With the direct map as one bit per frame
        // (no kernel tables shadowed), A's tables need 1 + 1 + 40 × 2 shadow pages (its root, the pud,
        // and a pmd and a pt page per region) beside the idle pgd's root: 83, all live at the end of
        // phase 1, more than KVM's smallest budget, 64 (KVM_MIN_ALLOC_MMU_PAGES; smaller is refused).
        // With that budget kvm_mmu_free_some_pages must zap the oldest pages on the way, and pages
        // reclaimed while still needed are made again; what the guest sees does not change.
        string[] run = ["policy=kvm-3.3", "workload.regions=40", "vm.direct_map=bit"];
        var normal = MicroHarness.Run("pt-clear", run);
        var r = MicroHarness.Run("pt-clear", [.. run, "mmu.pages_max=64"]);
        Assert.Equal(1 + 1 + 1 + 40 * 2, normal.Long("shadow.pages_created"));
        Assert.Equal(0, normal.Long("zap.reclaim"));
        Assert.Equal(Outcome.Completed, r.Outcome);
        Assert.True(r.Long("zap.reclaim") > 0);
        Assert.True(r.Long("shadow.pages_created") > normal.Long("shadow.pages_created"));
        Assert.Equal(normal.Root["guest"]!.ToJsonString(), r.Root["guest"]!.ToJsonString());
    }

    /// <summary>
    /// invlpg after a COW on an unsync leaf table: 3.1 drops the spte under the lock and then calls
    /// kvm_mmu_pte_write, taking the lock again; 3.3 (and the switch alone) takes it once.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1", "false", 2)]
    [InlineData("kvm-3.1", "true", 1)]
    [InlineData("kvm-3.3", "true", 1)]
    public void Invlpg_LockAcquisitionsPerCow(string policy, string direct, int locksPerInvlpg)
    {
        const int pages = 16;
        var vm = MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            var parent = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(parent);
            for (int i = 0; i < pages; i++) await v.Touch(parent, GiB + (ulong)i * Page, write: true);
            await v.Fork(parent);
            for (int i = 0; i < pages; i++) await v.Touch(parent, GiB + (ulong)i * Page, write: true); // COW each
        }, $"policy={policy}", $"mmu.invlpg_direct={direct}");
        Assert.Equal(pages, vm.Mmu.Stats.ExitsInvlpg);
        Assert.Equal(locksPerInvlpg * pages, vm.Mmu.Lock.Acquisitions[(int)LockSite.Invlpg]);
    }
}
