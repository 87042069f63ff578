using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Farm.Simulation.X86.Internal.Handlers;

// Handlers for one operand form each, chosen when an instruction is decoded (HandlerSelector):
// the generic handlers examine each operand's kind, register table entry and size on every
// execution; these know them from their type parameters. Each computes exactly what its
// generic handler computes for that form (the same Compute methods for results and flags),
// in the same order: a memory read before a write, a refused write before any register or
// flag changes. The compute/write-back/flags tail is written out in each ALU handler on purpose:
// moved into one shared generic helper (AggressiveInlining), the interpreter ran 45% slower
// (`cpu-rates`, straight-line 214M -> 126M instructions per CPU s): the JIT did not inline it.

/// <summary>op r, r (add, adc, sub, sbb, and, or, xor, cmp, test).</summary>
internal sealed class AluRR<TOp, TSize> : OpHandler where TOp : struct, IAluOp where TSize : struct, IGprSize
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        var r = it.R;
        ulong a = Gpr.Get<TSize>(r, ins.Op0Register);
        ulong b = Gpr.Get<TSize>(r, ins.Op1Register);
        var cpu = it.Cpu;
        ulong f = cpu.Rflags;
        ulong res = BinaryAluHandler.Compute(TOp.Op, a, b, f & Flags.CF, TSize.Bytes, out ulong flags);
        if (BinaryAluHandler.Writes(TOp.Op)) Gpr.Set<TSize>(r, ins.Op0Register, res);
        cpu.Rflags = (f & ~Flags.Arith) | flags;
        cpu.Rip = ins.NextIP;
        return true;
    }
}

/// <summary>op r, imm.</summary>
internal sealed class AluRI<TOp, TSize, TImm> : OpHandler
    where TOp : struct, IAluOp where TSize : struct, IGprSize where TImm : struct, IImmediate
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        var r = it.R;
        ulong a = Gpr.Get<TSize>(r, ins.Op0Register);
        ulong b = TImm.Get(ins) & Interpreter.SizeMask(TSize.Bytes);
        var cpu = it.Cpu;
        ulong f = cpu.Rflags;
        ulong res = BinaryAluHandler.Compute(TOp.Op, a, b, f & Flags.CF, TSize.Bytes, out ulong flags);
        if (BinaryAluHandler.Writes(TOp.Op)) Gpr.Set<TSize>(r, ins.Op0Register, res);
        cpu.Rflags = (f & ~Flags.Arith) | flags;
        cpu.Rip = ins.NextIP;
        return true;
    }
}

/// <summary>op r, [mem].</summary>
internal sealed class AluRM<TOp, TSize, TAddr> : OpHandler
    where TOp : struct, IAluOp where TSize : struct, IGprSize where TAddr : struct, IAddress
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        var r = it.R;
        ulong a = Gpr.Get<TSize>(r, ins.Op0Register);
        ulong b = it.Memory.Read(TAddr.Effective(r, ins), TSize.Bytes);
        var cpu = it.Cpu;
        ulong f = cpu.Rflags;
        ulong res = BinaryAluHandler.Compute(TOp.Op, a, b, f & Flags.CF, TSize.Bytes, out ulong flags);
        if (BinaryAluHandler.Writes(TOp.Op)) Gpr.Set<TSize>(r, ins.Op0Register, res);
        cpu.Rflags = (f & ~Flags.Arith) | flags;
        cpu.Rip = ins.NextIP;
        return true;
    }
}

/// <summary>op [mem], r.</summary>
internal sealed class AluMR<TOp, TSize, TAddr> : OpHandler
    where TOp : struct, IAluOp where TSize : struct, IGprSize where TAddr : struct, IAddress
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        var r = it.R;
        ulong address = TAddr.Effective(r, ins);
        ulong a = it.Memory.Read(address, TSize.Bytes);
        ulong b = Gpr.Get<TSize>(r, ins.Op1Register);
        var cpu = it.Cpu;
        ulong res = BinaryAluHandler.Compute(TOp.Op, a, b, cpu.Rflags & Flags.CF, TSize.Bytes, out ulong flags);
        if (BinaryAluHandler.Writes(TOp.Op) && !it.TryWrite(address, TSize.Bytes, res, in ins, 0)) return false;
        cpu.Rflags = (cpu.Rflags & ~Flags.Arith) | flags;
        cpu.Rip = ins.NextIP;
        return true;
    }
}

/// <summary>op [mem], imm.</summary>
internal sealed class AluMI<TOp, TSize, TAddr, TImm> : OpHandler
    where TOp : struct, IAluOp where TSize : struct, IGprSize where TAddr : struct, IAddress where TImm : struct, IImmediate
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        ulong address = TAddr.Effective(it.R, ins);
        ulong a = it.Memory.Read(address, TSize.Bytes);
        ulong b = TImm.Get(ins) & Interpreter.SizeMask(TSize.Bytes);
        var cpu = it.Cpu;
        ulong res = BinaryAluHandler.Compute(TOp.Op, a, b, cpu.Rflags & Flags.CF, TSize.Bytes, out ulong flags);
        if (BinaryAluHandler.Writes(TOp.Op) && !it.TryWrite(address, TSize.Bytes, res, in ins, 0)) return false;
        cpu.Rflags = (cpu.Rflags & ~Flags.Arith) | flags;
        cpu.Rip = ins.NextIP;
        return true;
    }
}

/// <summary>not, neg, inc, dec of a register.</summary>
internal sealed class UnaryR<TOp, TSize> : OpHandler where TOp : struct, IUnaryOp where TSize : struct, IGprSize
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        var r = it.R;
        var cpu = it.Cpu;
        ulong f = cpu.Rflags;
        ulong res = UnaryAluHandler.Compute(TOp.Op, Gpr.Get<TSize>(r, ins.Op0Register), TSize.Bytes, ref f);
        Gpr.Set<TSize>(r, ins.Op0Register, res);
        cpu.Rflags = f;
        cpu.Rip = ins.NextIP;
        return true;
    }
}

/// <summary>shl, shr, sar, rol, ror of a register by an immediate count.</summary>
internal sealed class ShiftRI<TOp, TSize> : OpHandler where TOp : struct, IShiftOp where TSize : struct, IGprSize
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        var cpu = it.Cpu;
        int count = (int)(ins.Immediate8 & (TSize.Bytes == 8 ? 0x3fU : 0x1fU));
        if (count != 0) // a zero count writes nothing and leaves the flags alone
        {
            var r = it.R;
            ulong f = cpu.Rflags;
            ulong res = ShiftHandler.Compute(TOp.Op, Gpr.Get<TSize>(r, ins.Op0Register), count, TSize.Bytes, ref f);
            Gpr.Set<TSize>(r, ins.Op0Register, res);
            cpu.Rflags = f;
        }
        cpu.Rip = ins.NextIP;
        return true;
    }
}

/// <summary>mov r, r.</summary>
internal sealed class MovRR<TSize> : OpHandler where TSize : struct, IGprSize
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        var r = it.R;
        Gpr.Set<TSize>(r, ins.Op0Register, Gpr.Get<TSize>(r, ins.Op1Register));
        it.Cpu.Rip = ins.NextIP;
        return true;
    }
}

/// <summary>mov r, imm.</summary>
internal sealed class MovRI<TSize, TImm> : OpHandler where TSize : struct, IGprSize where TImm : struct, IImmediate
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        Gpr.Set<TSize>(it.R, ins.Op0Register, TImm.Get(ins) & Interpreter.SizeMask(TSize.Bytes));
        it.Cpu.Rip = ins.NextIP;
        return true;
    }
}

/// <summary>mov r, [mem].</summary>
internal sealed class MovRM<TSize, TAddr> : OpHandler where TSize : struct, IGprSize where TAddr : struct, IAddress
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        var r = it.R;
        Gpr.Set<TSize>(r, ins.Op0Register, it.Memory.Read(TAddr.Effective(r, ins), TSize.Bytes));
        it.Cpu.Rip = ins.NextIP;
        return true;
    }
}

/// <summary>mov [mem], r.</summary>
internal sealed class MovMR<TSize, TAddr> : OpHandler where TSize : struct, IGprSize where TAddr : struct, IAddress
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        var r = it.R;
        if (!it.TryWrite(TAddr.Effective(r, ins), TSize.Bytes, Gpr.Get<TSize>(r, ins.Op1Register), in ins, 0)) return false;
        it.Cpu.Rip = ins.NextIP;
        return true;
    }
}

/// <summary>mov [mem], imm.</summary>
internal sealed class MovMI<TSize, TAddr, TImm> : OpHandler
    where TSize : struct, IGprSize where TAddr : struct, IAddress where TImm : struct, IImmediate
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        ulong value = TImm.Get(ins) & Interpreter.SizeMask(TSize.Bytes);
        if (!it.TryWrite(TAddr.Effective(it.R, ins), TSize.Bytes, value, in ins, 0)) return false;
        it.Cpu.Rip = ins.NextIP;
        return true;
    }
}

/// <summary>lea r, [base + disp].</summary>
internal sealed class LeaR<TSize, TAddr> : OpHandler where TSize : struct, IGprSize where TAddr : struct, IAddress
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        var r = it.R;
        Gpr.Set<TSize>(r, ins.Op0Register, TAddr.Effective(r, ins) & Interpreter.SizeMask(TSize.Bytes));
        it.Cpu.Rip = ins.NextIP;
        return true;
    }
}

/// <summary>jcc rel: the condition fixed at decode time, the target a field of the instruction.</summary>
internal sealed class JccRel(ConditionCode cc, bool near64) : OpHandler
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        var cpu = it.Cpu;
        cpu.Rip = Conditions.Holds(cc, cpu.Rflags) ? (near64 ? ins.NearBranch64 : ins.NearBranch32) : ins.NextIP;
        return true;
    }
}

/// <summary>One shared instance of a stateless handler type.</summary>
internal static class Single<T> where T : OpHandler, new()
{
    public static readonly T Instance = new();
}
