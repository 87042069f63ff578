using Farm.Simulation.Guest;
using Farm.Simulation.Kvm;
using Xunit;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>
/// A leaf page table that is unsync when its process exits, and its frame reused by the next process.
/// Process A touches pages 0 and 8 of one 2 MiB region: its leaf table T is shadowed (spte 0 maps A's
/// page d0) and the set_pte of page 8 unsyncs it (spte 8 maps d8; nothing else is present in the
/// guest table, so no prefetch). A exits while not current: its ptes are cleared natively (T is
/// unsync, so writable), its pmd entry is cleared by an emulated write that drops the link to T's
/// shadow page, and the frames go back to the vCPU's LIFO pool: d0, d8, then T, A's pmd, A's pud,
/// A's pgd on top. No CR3 load of A follows, so T's shadow page stays valid and unsync, orphaned,
/// with sptes 0 and 8 still present. Then <c>before</c> processes are created (each takes one frame,
/// its pgd), and process B is created and touches <c>va</c>: its tables come from the pool in order.
/// </summary>
internal static class FreedUnsyncLeafScenario
{
    internal sealed record Outcome(GuestVm Vm, ulong T, ulong D0, ulong D8, ShadowPage OldPage, MmuStats Before, MmuStats After,
        ulong[] TablesOfB);

    public static Outcome Run(string policy, int before, ulong va)
    {
        ulong t = 0, d0 = 0, d8 = 0;
        ShadowPage? oldPage = null;
        MmuStats? s0 = null, s1 = null;
        var tablesOfB = Array.Empty<ulong>();
        var vm = MicroHarness.RunScript(async v =>
        {
            var vmas = new[] { new Vma(GiB, 2 * GiB, VmaKind.Anonymous, Writable: true) };
            await v.SwitchTo(null);
            var a = await v.CreateProcess(vmas);
            await v.SwitchTo(a);
            await v.Touch(a, GiB, write: true);
            await v.Touch(a, GiB + 8 * Page, write: true);
            ulong pte0 = v.FindPte(a, GiB);
            t = pte0 >> 12;
            d0 = v.Mode.PteFrame(v.Vm.Memory.Read(pte0, 8));
            d8 = v.Mode.PteFrame(v.Vm.Memory.Read(pte0 + 8 * 8, 8));
            var sp = v.Vm.Mmu.PagesOf(t).Single();
            Assert.True(sp.Unsync);
            oldPage = sp;
            await v.SwitchTo(null);
            await v.Exit(a, null);
            Assert.True(v.Vm.Mmu.PagesOf(t).Single().Unsync); // orphaned, still unsync
            for (int i = 0; i < before; i++) await v.CreateProcess(vmas);
            var b = await v.CreateProcess(vmas);
            await v.SwitchTo(b);
            s0 = MicroHarness.Snapshot(v.Vm.Mmu);
            await v.Touch(b, va, write: true);
            s1 = MicroHarness.Snapshot(v.Vm.Mmu);
            // B's pgd, pud, pmd and leaf table, read back from guest memory.
            var tables = new List<ulong> { b.PgdGfn };
            for (int level = v.Mode.Levels; level >= 2; level--)
            {
                ulong entry = (tables[^1] << 12) + 8 * ((va >> (12 + 9 * (level - 1))) & 511);
                tables.Add(v.Mode.PteFrame(v.Vm.Memory.Read(entry, 8)));
            }
            tablesOfB = [.. tables];
        }, $"policy={policy}");
        return new Outcome(vm, t, d0, d8, oldPage!, s0!, s1!, tablesOfB);
    }
}
