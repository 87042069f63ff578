using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Farm.Simulation.X86.Internal.Handlers;

internal enum ShiftOp { Shl, Shr, Sar, Rol, Ror }

internal sealed class ShiftHandler(ShiftOp op) : OpHandler
{
    public ShiftOp Op => op;

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        int size = Interpreter.OpSize(ins, 0);
        int count = (int)(it.ReadOp(ins, 1, 1) & (size == 8 ? 0x3fUL : 0x1fUL));
        ulong a = it.ReadOp(ins, 0, size);
        if (count == 0) return Next(it, ins); // no write, flags untouched
        ulong f = it.Cpu.Rflags;
        ulong r = Compute(op, a, count, size, ref f);
        if (!it.WriteOp(ins, 0, size, r)) return false;
        it.Cpu.Rflags = f;
        return Next(it, ins);
    }

    /// <summary>The result of a shift or rotate by a non-zero <paramref name="count"/>, and RFLAGS
    /// updated in <paramref name="f"/>; shared with the form-specialised handlers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Compute(ShiftOp op, ulong a, int count, int size, ref ulong f)
    {
        int bits = size * 8;
        ulong mask = Interpreter.SizeMask(size);
        ulong r;
        bool cf;
        switch (op)
        {
            case ShiftOp.Shl:
                r = count >= 64 ? 0 : (a << count) & mask;
                cf = count <= bits && ((a >> (bits - count)) & 1) != 0;
                f = (f & ~Flags.Arith) | Alu.Szp(r, size) | (cf ? Flags.CF : 0)
                    | ((((r & Alu.Sign(size)) != 0) ^ cf) ? Flags.OF : 0);
                break;
            case ShiftOp.Shr:
                r = count >= 64 ? 0 : a >> count;
                cf = count <= bits && ((a >> (count - 1)) & 1) != 0;
                f = (f & ~Flags.Arith) | Alu.Szp(r, size) | (cf ? Flags.CF : 0)
                    | ((a & Alu.Sign(size)) != 0 ? Flags.OF : 0);
                break;
            case ShiftOp.Sar:
                long s = (long)Alu.SignExtend(a, size);
                r = (ulong)(s >> Math.Min(count, 63)) & mask;
                cf = ((s >> Math.Min(count - 1, 63)) & 1) != 0;
                f = (f & ~Flags.Arith) | Alu.Szp(r, size) | (cf ? Flags.CF : 0);
                break;
            case ShiftOp.Rol:
            {
                int c = count % bits;
                r = c == 0 ? a : ((a << c) | (a >> (bits - c))) & mask;
                cf = (r & 1) != 0;
                f = (f & ~(Flags.CF | Flags.OF)) | (cf ? Flags.CF : 0)
                    | ((((r & Alu.Sign(size)) != 0) ^ cf) ? Flags.OF : 0);
                break;
            }
            default:
            {
                int c = count % bits;
                r = c == 0 ? a : ((a >> c) | (a << (bits - c))) & mask;
                bool msb = (r & Alu.Sign(size)) != 0, next = (r & (Alu.Sign(size) >> 1)) != 0;
                f = (f & ~(Flags.CF | Flags.OF)) | (msb ? Flags.CF : 0) | (msb ^ next ? Flags.OF : 0);
                break;
            }
        }
        return r;
    }
}
