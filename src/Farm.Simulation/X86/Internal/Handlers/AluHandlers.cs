using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Farm.Simulation.X86.Internal.Handlers;

internal enum AluOp { Add, Adc, Sub, Sbb, And, Or, Xor, Cmp, Test }

/// <summary>Two-operand integer ALU: dst = dst op src (cmp and test only set flags).</summary>
internal sealed class BinaryAluHandler(AluOp op) : OpHandler
{
    public AluOp Op => op;

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        int size = Interpreter.OpSize(ins, 0);
        ulong a = it.ReadOp(ins, 0, size);
        ulong b = it.ReadOp(ins, 1, size);
        ulong r = Compute(op, a, b, it.Cpu.Rflags & Flags.CF, size, out ulong flags);
        if (Writes(op) && !it.WriteOp(ins, 0, size, r)) return false;
        SetArithFlags(it, flags);
        return Next(it, ins);
    }

    /// <summary>The result and arithmetic flags of <paramref name="op"/>; shared with the
    /// form-specialised handlers (FastAluHandlers), where op and size are constants.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Compute(AluOp op, ulong a, ulong b, ulong carry, int size, out ulong flags) => op switch
    {
        AluOp.Add => Alu.Add(a, b, 0, size, out flags),
        AluOp.Adc => Alu.Add(a, b, carry, size, out flags),
        AluOp.Sub or AluOp.Cmp => Alu.Sub(a, b, 0, size, out flags),
        AluOp.Sbb => Alu.Sub(a, b, carry, size, out flags),
        AluOp.And or AluOp.Test => Alu.Logic(a & b, size, out flags),
        AluOp.Or => Alu.Logic(a | b, size, out flags),
        _ => Alu.Logic(a ^ b, size, out flags),
    };

    /// <summary>cmp and test only set flags.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Writes(AluOp op) => op is not (AluOp.Cmp or AluOp.Test);
}

internal enum UnaryOp { Not, Neg, Inc, Dec }

internal sealed class UnaryAluHandler(UnaryOp op) : OpHandler
{
    public UnaryOp Op => op;

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        int size = Interpreter.OpSize(ins, 0);
        ulong a = it.ReadOp(ins, 0, size);
        ulong f = it.Cpu.Rflags;
        ulong r = Compute(op, a, size, ref f);
        if (!it.WriteOp(ins, 0, size, r)) return false;
        it.Cpu.Rflags = f;
        return Next(it, ins);
    }

    /// <summary>The result, and RFLAGS updated in <paramref name="f"/>; shared with the form-specialised handlers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Compute(UnaryOp op, ulong a, int size, ref ulong f)
    {
        ulong r;
        switch (op)
        {
            case UnaryOp.Not:
                r = ~a & Interpreter.SizeMask(size);
                break;
            case UnaryOp.Neg:
                r = Alu.Sub(0, a, 0, size, out ulong nf);
                f = (f & ~Flags.Arith) | nf;
                break;
            default:
                // inc and dec leave CF alone.
                r = op == UnaryOp.Inc ? Alu.Add(a, 1, 0, size, out ulong af) : Alu.Sub(a, 1, 0, size, out af);
                f = (f & ~(Flags.Arith & ~Flags.CF)) | (af & ~Flags.CF);
                break;
        }
        return r;
    }
}

/// <summary>imul in its one-, two- and three-operand forms, and mul.</summary>
internal sealed class MultiplyHandler(bool signed) : OpHandler
{
    public static readonly MultiplyHandler Imul = new(true);
    public static readonly MultiplyHandler Mul = new(false);

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        if (ins.OpCount == 1) return Widening(it, ins);
        int size = Interpreter.OpSize(ins, 0);
        ulong a = it.ReadOp(ins, ins.OpCount == 3 ? 1 : 0, size);
        ulong b = it.ReadOp(ins, ins.OpCount == 3 ? 2 : 1, size);
        Int128 full = (Int128)(long)Alu.SignExtend(a, size) * (long)Alu.SignExtend(b, size);
        ulong r = (ulong)full & Interpreter.SizeMask(size);
        bool overflow = (Int128)(long)Alu.SignExtend(r, size) != full;
        it.WriteReg(ins.Op0Register, r);
        SetArithFlags(it, Alu.Szp(r, size) | (overflow ? Flags.CF | Flags.OF : 0));
        return Next(it, ins);
    }

    private bool Widening(Interpreter it, in Instruction ins)
    {
        int size = Interpreter.OpSize(ins, 0);
        ulong mask = Interpreter.SizeMask(size);
        ulong src = it.ReadOp(ins, 0, size);
        ulong acc = it.R[0] & mask;
        ulong lo, hi;
        if (signed)
        {
            Int128 p = (Int128)(long)Alu.SignExtend(acc, size) * (long)Alu.SignExtend(src, size);
            lo = (ulong)p & mask;
            hi = size == 8 ? (ulong)(p >> 64) : (ulong)(p >> (size * 8)) & mask;
        }
        else
        {
            UInt128 p = (UInt128)acc * src;
            lo = (ulong)p & mask;
            hi = size == 8 ? (ulong)(p >> 64) : (ulong)(p >> (size * 8)) & mask;
        }
        bool overflow = signed ? hi != ((lo & Alu.Sign(size)) != 0 ? mask : 0) : hi != 0;
        StoreWide(it, size, lo, hi);
        SetArithFlags(it, Alu.Szp(lo, size) | (overflow ? Flags.CF | Flags.OF : 0));
        return Next(it, ins);
    }

    internal static void StoreWide(Interpreter it, int size, ulong lo, ulong hi)
    {
        switch (size)
        {
            case 1: it.WriteReg(Register.AX, (hi << 8) | lo); break;
            case 2: it.WriteReg(Register.AX, lo); it.WriteReg(Register.DX, hi); break;
            case 4: it.WriteReg(Register.EAX, lo); it.WriteReg(Register.EDX, hi); break;
            default: it.R[0] = lo; it.R[2] = hi; break;
        }
    }
}

/// <summary>div and idiv; a zero divisor or an oversized quotient is the guest's #DE.</summary>
internal sealed class DivideHandler(bool signed) : OpHandler
{
    public static readonly DivideHandler Idiv = new(true);
    public static readonly DivideHandler Div = new(false);

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        int size = Interpreter.OpSize(ins, 0);
        ulong mask = Interpreter.SizeMask(size);
        ulong divisor = it.ReadOp(ins, 0, size);
        if (divisor == 0) GuestCodeException.Throw("divide-error", "divide by zero (#DE)");
        ulong lo = size == 1 ? it.R[0] & 0xff : it.R[0] & mask;
        ulong hi = size == 1 ? (it.R[0] >> 8) & 0xff : it.R[2] & mask;
        int bits = size * 8;
        ulong q, r;
        if (signed)
        {
            Int128 dividend = bits == 64 ? (Int128)(((UInt128)hi << 64) | lo) : (Int128)(long)Alu.SignExtend((hi << bits) | lo, size * 2);
            Int128 d = (long)Alu.SignExtend(divisor, size);
            // -2^127 / -1 does not fit Int128 either (.NET throws OverflowException): #DE, as on hardware.
            if (d == -1 && dividend == Int128.MinValue) GuestCodeException.Throw("divide-error", "quotient too large (#DE)");
            Int128 quotient = dividend / d;
            Int128 min = -((Int128)1 << (bits - 1)), max = ((Int128)1 << (bits - 1)) - 1;
            if (quotient < min || quotient > max) GuestCodeException.Throw("divide-error", "quotient too large (#DE)");
            q = (ulong)quotient & mask;
            r = (ulong)(dividend % d) & mask;
        }
        else
        {
            UInt128 dividend = bits == 64 ? ((UInt128)hi << 64) | lo : (hi << bits) | lo;
            UInt128 quotient = dividend / divisor;
            if (quotient > mask) GuestCodeException.Throw("divide-error", "quotient too large (#DE)");
            q = (ulong)quotient;
            r = (ulong)(dividend % divisor);
        }
        if (size == 1) it.WriteReg(Register.AX, (r << 8) | q);
        else MultiplyHandler.StoreWide(it, size, q, r);
        return Next(it, ins);
    }
}
