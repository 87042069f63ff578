using Farm.Simulation.GuestCode;
using Farm.Simulation.X86;
using Iced.Intel;
using Xunit;

namespace Farm.Simulation.Tests.X86;

/// <summary>
/// The linux-3.x-pae flavour writes 8-byte ptes as the i386 PAE kernel does (pgtable-3level.h):
/// on a write-protected table each store faults separately, in the kernel's order and size, which
/// is what kvm_mmu_pte_write sees (4-byte halves, or one 8-byte cmpxchg8b).
/// </summary>
public sealed class PaeRoutineTests
{
    private const ulong Table = Machine.DataBase + 0x1000;
    private const ulong Ptep = Table + 0x40;
    private const ulong Old = 0x0000_0001_2345_6067UL, New = 0x8000_0002_3456_7067UL;

    private static (Machine M, RoutineImage Image) Guest()
    {
        var flavour = GuestFlavour.BuiltIn("linux-3.x-pae");
        var m = new Machine(flavour.Bitness);
        var image = new RoutineImage(flavour, m.Memory, Machine.CodeBase);
        m.Write(Ptep, Old);
        m.Protect(Table);
        return (m, image);
    }

    /// <summary>Runs until the next refused write, emulates that one instruction, and returns what it wrote.</summary>
    private static (ulong Address, int Size, ulong Value, Mnemonic Mnemonic) FaultAndEmulate(Machine m, ExecutionResult result)
    {
        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        var mnemonic = result.Fault.Class.Mnemonic;
        Assert.True(result.Fault.Class.IsPageTableWriting, $"{mnemonic} is not page-table writing");
        var sink = new RecordingSink();
        Assert.True(m.Interpreter.EmulateOne(sink, 1, out var error));
        Assert.Null(error);
        var w = Assert.Single(sink.Writes);
        return (w.Address, w.Size, w.Value, mnemonic);
    }

    [Fact]
    public void SetPte_WritesTheHighHalfFirst_ThenTheLowHalf_FourBytesEach()
    {
        var (m, image) = Guest();
        var result = m.Call(image.EntryOf(KernelOp.SetPte), Ptep, New & 0xffff_ffff, New >> 32);
        Assert.Equal((Ptep + 4, 4, New >> 32, Mnemonic.Mov), FaultAndEmulate(m, result));
        Assert.Equal((Ptep, 4, New & 0xffff_ffff, Mnemonic.Mov), FaultAndEmulate(m, m.Interpreter.Run()));
        Assert.True(m.Interpreter.Run().IsCompleted);
        Assert.Equal(New, m.Read(Ptep));
    }

    [Fact]
    public void SetPmd_IsOneEightByteLockCmpxchg8b()
    {
        var (m, image) = Guest();
        var result = m.Call(image.EntryOf(KernelOp.SetPmd), Ptep, New & 0xffff_ffff, New >> 32);
        Assert.True(result.Fault.Class.IsLock);
        Assert.Equal((Ptep, 8, New, Mnemonic.Cmpxchg8b), FaultAndEmulate(m, result));
        Assert.True(m.Interpreter.Run().IsCompleted);
        Assert.Equal(New, m.Read(Ptep));
    }

    [Fact]
    public void PteClear_ClearsTheLowHalfFirst()
    {
        var (m, image) = Guest();
        var result = m.Call(image.EntryOf(KernelOp.PteClear), Ptep);
        Assert.Equal((Ptep, 4, 0UL, Mnemonic.Mov), FaultAndEmulate(m, result));
        Assert.Equal((Ptep + 4, 4, 0UL, Mnemonic.Mov), FaultAndEmulate(m, m.Interpreter.Run()));
        Assert.True(m.Interpreter.Run().IsCompleted);
        Assert.Equal(0UL, m.Read(Ptep));
    }

    [Fact]
    public void PtepGetAndClear_XchgsTheLowHalf_ThenStoresTheHighHalf_AndReturnsTheOldPte()
    {
        var (m, image) = Guest();
        var result = m.Call(image.EntryOf(KernelOp.PtepGetAndClear), Ptep);
        Assert.Equal((Ptep, 4, 0UL, Mnemonic.Xchg), FaultAndEmulate(m, result));
        Assert.Equal((Ptep + 4, 4, 0UL, Mnemonic.Mov), FaultAndEmulate(m, m.Interpreter.Run()));
        Assert.True(m.Interpreter.Run().IsCompleted);
        Assert.Equal(0UL, m.Read(Ptep));
        Assert.Equal(Old, (m.Cpu.Rdx << 32) | (uint)m.Cpu.Rax);
    }
}
