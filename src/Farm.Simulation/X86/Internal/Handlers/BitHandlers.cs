using Iced.Intel;

namespace Farm.Simulation.X86.Internal.Handlers;

internal enum BitOp { Test, Set, Reset, Complement }

/// <summary>bt, bts, btr, btc. With a memory operand and a register bit offset the offset
/// addresses a bit string (it may reach beyond the operand), as on hardware.</summary>
internal sealed class BitTestHandler(BitOp op) : OpHandler
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        int size = Interpreter.OpSize(ins, 0);
        int bits = size * 8;
        long offset;
        if (ins.Op1Kind == OpKind.Register)
            offset = (long)Alu.SignExtend(it.ReadReg(ins.Op1Register), size);
        else
            offset = (long)(it.ReadOp(ins, 1, 1) & (ulong)(bits - 1));

        bool memory = ins.Op0Kind == OpKind.Memory;
        ulong address = 0, value;
        int bit;
        if (memory)
        {
            address = it.EffectiveAddress(ins);
            if (ins.Op1Kind == OpKind.Register)
            {
                address = it.Mask(address + (ulong)((offset >> (bits == 64 ? 6 : bits == 32 ? 5 : 4)) * size));
                bit = (int)(offset & (bits - 1));
            }
            else
            {
                bit = (int)offset;
            }
            value = it.ReadMem(address, size);
        }
        else
        {
            bit = (int)(offset & (bits - 1));
            value = it.ReadReg(ins.Op0Register);
        }

        ulong m = 1UL << bit;
        bool old = (value & m) != 0;
        ulong r = op switch
        {
            BitOp.Set => value | m,
            BitOp.Reset => value & ~m,
            BitOp.Complement => value ^ m,
            _ => value,
        };
        if (op != BitOp.Test)
        {
            bool ok = memory ? it.TryWrite(address, size, r, ins, 0) : it.WriteOp(ins, 0, size, r);
            if (!ok) return false;
        }
        it.Cpu.Rflags = (it.Cpu.Rflags & ~Flags.CF) | (old ? Flags.CF : 0);
        return Next(it, ins);
    }
}

/// <summary>bsf, bsr, tzcnt, lzcnt, popcnt: what compilers emit for ffs/fls-style helpers.</summary>
internal sealed class BitScanHandler(Mnemonic kind) : OpHandler
{
    public override bool Execute(Interpreter it, in Instruction ins)
    {
        int size = Interpreter.OpSize(ins, 0);
        int bits = size * 8;
        ulong src = it.ReadOp(ins, 1, size);
        ulong f = it.Cpu.Rflags & ~Flags.Arith;
        switch (kind)
        {
            case Mnemonic.Bsf or Mnemonic.Bsr:
                if (src == 0) { f |= Flags.ZF; break; } // destination left unchanged
                it.WriteReg(ins.Op0Register, (ulong)(kind == Mnemonic.Bsf
                    ? System.Numerics.BitOperations.TrailingZeroCount(src)
                    : 63 - System.Numerics.BitOperations.LeadingZeroCount(src)));
                break;
            case Mnemonic.Tzcnt or Mnemonic.Lzcnt:
                int n = src == 0 ? bits : kind == Mnemonic.Tzcnt
                    ? System.Numerics.BitOperations.TrailingZeroCount(src)
                    : System.Numerics.BitOperations.LeadingZeroCount(src) - (64 - bits);
                it.WriteReg(ins.Op0Register, (ulong)n);
                if (src == 0) f |= Flags.CF;
                if (n == 0) f |= Flags.ZF;
                break;
            default:
                it.WriteReg(ins.Op0Register, (ulong)System.Numerics.BitOperations.PopCount(src));
                if (src == 0) f |= Flags.ZF;
                break;
        }
        it.Cpu.Rflags = f;
        return Next(it, ins);
    }
}
