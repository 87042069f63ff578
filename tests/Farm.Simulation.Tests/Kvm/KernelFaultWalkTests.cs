using Farm.Simulation.Guest;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// Deviation 1 of issue 12: a kernel write fault walks the shadow through the current root
/// (FNAME(fetch)), which in 3.3 clears the root's write_flooding_count.
/// </summary>
public class KernelFaultWalkTests
{
    private const ulong Slot = 512 * GiB; // one pgd entry spans 512 GiB

    /// <summary>
    /// A process with one page in each of three pgd slots exits while its pgd is the vCPU's root.
    /// free_pgtables clears the three pgd entries (three writes to the root's gfn), each after a
    /// kernel write fault on it: the fault's walk through the root resets the count before each
    /// emulated write, so the count is 1 after each and never reaches 3. Without the walk, the
    /// third pgd_clear floods the root that the exiting process still runs on.
    /// Each pud and pmd has one entry, so it is written once: no other flood either.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void ExitingProcess_DoesNotFloodItsOwnRoot(string policy)
    {
        MmuStats? before = null, after = null;
        bool rootValidAfterFree = false;
        MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            var p = await v.CreateProcess([
                new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true),
                new Vma(Slot + GiB, Slot + GiB + 2 * MiB, VmaKind.Anonymous, Writable: true),
                new Vma(2 * Slot + GiB, 2 * Slot + GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            for (int s = 0; s < 3; s++) await v.Touch(p, (ulong)s * Slot + GiB, write: true);
            int rootId = v.Kvm.Roots[0];
            before = MicroHarness.Snapshot(v.Vm.Mmu);
            await v.Exit(p, next: p); // teardown while p stays current (the switch to itself is a no-op)
            rootValidAfterFree = v.Vm.Mmu.Page(rootId).IsValid;
            after = MicroHarness.Snapshot(v.Vm.Mmu);
            await v.SwitchTo(null);
        }, $"policy={policy}");

        Assert.True(rootValidAfterFree);
        Assert.Equal(0, after!.ZapRootsInUse - before!.ZapRootsInUse);
        Assert.Equal(0, after.ZapFlooded - before.ZapFlooded);
    }
}
