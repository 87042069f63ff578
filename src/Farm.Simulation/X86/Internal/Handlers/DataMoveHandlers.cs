using Iced.Intel;

namespace Farm.Simulation.X86.Internal.Handlers;

internal sealed class MovHandler : OpHandler
{
    public static readonly MovHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        // Fast path, register to register between GPRs (non-GPRs have a size above 8).
        if (ins.Op0Kind == OpKind.Register && ins.Op1Kind == OpKind.Register)
        {
            var dst = RegisterMap.Info[(int)ins.Op0Register];
            var src = RegisterMap.Info[(int)ins.Op1Register];
            if (dst.Size <= 8 && src.Size <= 8)
            {
                it.WriteReg(ins.Op0Register, it.ReadReg(ins.Op1Register));
                return Next(it, ins);
            }
        }
        if (ins.Op0Kind == OpKind.Register && ins.Op0Register.IsSegmentRegister())
            GuestCodeException.Throw("unsupported", "loading a segment register is not supported (flat guest)");
        if (ins.Op0Kind == OpKind.Register && RegisterMap.Info[(int)ins.Op0Register].Size > 8)
            GuestCodeException.Throw("unsupported", "moves of control, debug or vector registers are not supported");
        int size = Interpreter.OpSize(ins, 0);
        // Flat model: a segment register reads as selector 0.
        ulong value = ins.Op1Kind == OpKind.Register && ins.Op1Register.IsSegmentRegister() ? 0 : it.ReadOp(ins, 1, size);
        if (ins.Op1Kind == OpKind.Register && RegisterMap.Info[(int)ins.Op1Register].Size > 8 && !ins.Op1Register.IsSegmentRegister())
            GuestCodeException.Throw("unsupported", "moves of control, debug or vector registers are not supported");
        return it.WriteOp(ins, 0, size, value) && Next(it, ins);
    }
}

/// <summary>movzx, movsx, movsxd: source size from operand 1.</summary>
internal sealed class MovExtendHandler(bool signed) : OpHandler
{
    public static readonly MovExtendHandler Zero = new(false);
    public static readonly MovExtendHandler Sign = new(true);

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        int dst = Interpreter.OpSize(ins, 0), src = Interpreter.OpSize(ins, 1);
        ulong v = it.ReadOp(ins, 1, src);
        if (signed) v = Alu.SignExtend(v, src);
        it.WriteReg(ins.Op0Register, v & Interpreter.SizeMask(dst));
        return Next(it, ins);
    }
}

internal sealed class LeaHandler : OpHandler
{
    public static readonly LeaHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        it.WriteReg(ins.Op0Register, it.EffectiveAddress(ins) & Interpreter.SizeMask(Interpreter.OpSize(ins, 0)));
        return Next(it, ins);
    }
}

internal sealed class XchgHandler : OpHandler
{
    public static readonly XchgHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        int size = Interpreter.OpSize(ins, 0);
        if (ins.Op0Kind == OpKind.Memory || ins.Op1Kind == OpKind.Memory)
        {
            int memOp = ins.Op0Kind == OpKind.Memory ? 0 : 1;
            Register reg = ins.GetOpRegister(1 - memOp);
            ulong old = it.ReadOp(ins, memOp, size);
            if (!it.WriteOp(ins, memOp, size, it.ReadReg(reg))) return false;
            it.WriteReg(reg, old);
            return Next(it, ins);
        }
        ulong a = it.ReadReg(ins.Op0Register), b = it.ReadReg(ins.Op1Register);
        it.WriteReg(ins.Op0Register, b);
        it.WriteReg(ins.Op1Register, a);
        return Next(it, ins);
    }
}

internal sealed class XaddHandler : OpHandler
{
    public static readonly XaddHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        int size = Interpreter.OpSize(ins, 0);
        ulong dst = it.ReadOp(ins, 0, size), src = it.ReadReg(ins.Op1Register);
        ulong sum = Alu.Add(dst, src, 0, size, out ulong flags);
        if (!it.WriteOp(ins, 0, size, sum)) return false;
        it.WriteReg(ins.Op1Register, dst);
        SetArithFlags(it, flags);
        return Next(it, ins);
    }
}

internal sealed class CmpxchgHandler : OpHandler
{
    public static readonly CmpxchgHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        int size = Interpreter.OpSize(ins, 0);
        ulong dst = it.ReadOp(ins, 0, size);
        ulong acc = it.R[0] & Interpreter.SizeMask(size);
        Alu.Sub(acc, dst, 0, size, out ulong flags);
        if (acc == dst)
        {
            if (!it.WriteOp(ins, 0, size, it.ReadReg(ins.Op1Register))) return false;
        }
        else
        {
            // Hardware writes the old value back to a memory destination (so a protected page
            // faults either way); KVM's emulator writes only the accumulator on failure.
            if (ins.Op0Kind == OpKind.Memory && !it.Emulating && !it.WriteOp(ins, 0, size, dst)) return false;
            if (ins.Op0Kind == OpKind.Register) it.WriteOp(ins, 0, size, dst);
            it.WriteReg(size switch { 1 => Register.AL, 2 => Register.AX, 4 => Register.EAX, _ => Register.RAX }, dst);
        }
        SetArithFlags(it, flags);
        return Next(it, ins);
    }
}

/// <summary>cmpxchg8b m64: EDX:EAX against memory, ECX:EBX written on a match.</summary>
internal sealed class Cmpxchg8bHandler : OpHandler
{
    public static readonly Cmpxchg8bHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        if (ins.MemorySize.GetSize() != 8) GuestCodeException.Throw("unsupported", "cmpxchg16b is not supported");
        ulong addr = it.EffectiveAddress(ins);
        ulong mem = it.ReadMem(addr, 8);
        ulong expected = ((it.R[2] & 0xffffffff) << 32) | (it.R[0] & 0xffffffff);
        ulong f = it.Cpu.Rflags & ~Flags.ZF;
        if (mem == expected)
        {
            ulong replacement = ((it.R[1] & 0xffffffff) << 32) | (it.R[3] & 0xffffffff);
            if (!it.TryWrite(addr, 8, replacement, ins, 0)) return false;
            f |= Flags.ZF;
        }
        else
        {
            if (!it.Emulating && !it.TryWrite(addr, 8, mem, ins, 0)) return false;
            it.WriteReg(Register.EAX, mem & 0xffffffff);
            it.WriteReg(Register.EDX, mem >> 32);
        }
        it.Cpu.Rflags = f;
        return Next(it, ins);
    }
}

internal sealed class CmovHandler : OpHandler
{
    public static readonly CmovHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        int size = Interpreter.OpSize(ins, 0);
        ulong src = it.ReadOp(ins, 1, size);
        // A 32-bit cmov zero-extends its destination even when the condition is false.
        ulong value = Conditions.Holds(ins.ConditionCode, it.Cpu.Rflags) ? src : it.ReadReg(ins.Op0Register);
        it.WriteReg(ins.Op0Register, value);
        return Next(it, ins);
    }
}

internal sealed class SetccHandler : OpHandler
{
    public static readonly SetccHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins) =>
        it.WriteOp(ins, 0, 1, Conditions.Holds(ins.ConditionCode, it.Cpu.Rflags) ? 1UL : 0) && Next(it, ins);
}

/// <summary>cbw/cwde/cdqe (extend in place) and cwd/cdq/cqo (into RDX).</summary>
internal sealed class SignExtendAccHandler(int fromSize, bool intoRdx) : OpHandler
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        ulong v = Alu.SignExtend(it.R[0], fromSize);
        if (!intoRdx)
        {
            it.WriteReg(fromSize switch { 1 => Register.AX, 2 => Register.EAX, _ => Register.RAX }, v);
        }
        else
        {
            ulong high = (v & Alu.Sign(fromSize)) != 0 ? ulong.MaxValue : 0;
            it.WriteReg(fromSize switch { 2 => Register.DX, 4 => Register.EDX, _ => Register.RDX }, high);
        }
        return Next(it, ins);
    }
}

internal sealed class BswapHandler : OpHandler
{
    public static readonly BswapHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        int size = Interpreter.OpSize(ins, 0);
        ulong v = it.ReadReg(ins.Op0Register);
        v = size == 8 ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v)
            : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)v);
        it.WriteReg(ins.Op0Register, v);
        return Next(it, ins);
    }
}
