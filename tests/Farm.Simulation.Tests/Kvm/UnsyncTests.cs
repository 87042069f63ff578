using Farm.Simulation.Guest;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

public class UnsyncTests
{
    /// <summary>
    /// A leaf page table written by the guest kernel goes unsync on the first write fault (no
    /// emulation, the mapping becomes writable, later writes are native), and the next CR3 load
    /// resyncs it and write-protects it again.
    /// </summary>
    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void LeafTableGoesUnsyncAndIsResyncedOnCr3Load(string policy)
    {
        ulong table = 0;
        MmuStats? before = null, afterFirst = null, afterSecond = null;
        bool writableWhileUnsync = false, writableAfterResync = true;
        var vm = MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            await v.Touch(p, GiB, write: true); // the leaf table is shadowed (level 1) now
            ulong pte1 = v.FindPte(p, GiB + Page);
            table = pte1 >> 12;
            before = MicroHarness.Snapshot(v.Vm.Mmu);
            await v.Run(KernelOp.SetPte, pte1, v.Mode.MakePte(8, PagingMode.Present | PagingMode.Accessed), argc: 2);
            afterFirst = MicroHarness.Snapshot(v.Vm.Mmu);
            await v.Run(KernelOp.SetPte, pte1 + 8, v.Mode.MakePte(8, PagingMode.Present | PagingMode.Accessed), argc: 2);
            afterSecond = MicroHarness.Snapshot(v.Vm.Mmu);
            writableWhileUnsync = v.Vm.Mmu.KernelMapWritable(table);
            await v.SwitchTo(null);
            await v.SwitchTo(p); // CR3 load: kvm_mmu_sync_roots
            writableAfterResync = v.Vm.Mmu.KernelMapWritable(table);
        }, $"policy={policy}");

        Assert.Equal(1, afterFirst!.Unsync - before!.Unsync);
        Assert.Equal(0, afterFirst.EmulatedInstructions - before.EmulatedInstructions);
        Assert.Equal(1, afterFirst.ExitsWriteProtect - before.ExitsWriteProtect);
        // The second write needs no exit at all: the page is mapped writable while unsync.
        Assert.Equal(afterFirst.ExitsWriteProtect, afterSecond!.ExitsWriteProtect);
        Assert.True(writableWhileUnsync);
        Assert.True(vm.Mmu.Stats.Resync >= 1);
        Assert.False(writableAfterResync);
        Assert.All(vm.Mmu.PagesOf(table), sp => Assert.False(sp.Unsync));
    }

    [Fact]
    public void WithUnsyncOff_TheSameWriteIsEmulated()
    {
        var vm = MicroHarness.RunScript(async v =>
        {
            await v.SwitchTo(null);
            var p = await v.CreateProcess([new Vma(GiB, GiB + 2 * MiB, VmaKind.Anonymous, Writable: true)]);
            await v.SwitchTo(p);
            await v.Touch(p, GiB, write: true);
            await v.Run(KernelOp.SetPte, v.FindPte(p, GiB + Page), 0, argc: 2);
        }, "policy=kvm-3.1", "mmu.unsync=false");
        Assert.Equal(0, vm.Mmu.Stats.Unsync);
        Assert.True(vm.Mmu.Stats.EmulatedInstructions >= 1);
    }
}
