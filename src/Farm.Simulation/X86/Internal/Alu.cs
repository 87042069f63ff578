using System.Numerics;
using System.Runtime.CompilerServices;

namespace Farm.Simulation.X86.Internal;

/// <summary>Integer results and the arithmetic flags they set, per operand size.</summary>
internal static class Alu
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Sign(int size) => 1UL << (size * 8 - 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong SignExtend(ulong v, int size) => size switch
    {
        1 => (ulong)(long)(sbyte)v,
        2 => (ulong)(long)(short)v,
        4 => (ulong)(long)(int)v,
        _ => v,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Szp(ulong r, int size)
    {
        ulong f = 0;
        if ((r & Interpreter_SizeMask(size)) == 0) f |= X86.Flags.ZF;
        if ((r & Sign(size)) != 0) f |= X86.Flags.SF;
        if ((BitOperations.PopCount(r & 0xff) & 1) == 0) f |= X86.Flags.PF;
        return f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Interpreter_SizeMask(int size) => size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Add(ulong a, ulong b, ulong carry, int size, out ulong flags)
    {
        ulong mask = Interpreter_SizeMask(size);
        a &= mask; b &= mask;
        ulong r = (a + b + carry) & mask;
        bool cf = size == 8 ? (r < a || (carry != 0 && r == a)) : (a + b + carry) > mask;
        flags = Szp(r, size) | (cf ? X86.Flags.CF : 0)
            | (((a ^ r) & (b ^ r) & Sign(size)) != 0 ? X86.Flags.OF : 0)
            | (((a ^ b ^ r) & 0x10) != 0 ? X86.Flags.AF : 0);
        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Sub(ulong a, ulong b, ulong borrow, int size, out ulong flags)
    {
        ulong mask = Interpreter_SizeMask(size);
        a &= mask; b &= mask;
        ulong r = (a - b - borrow) & mask;
        bool cf = borrow == 0 ? a < b : a <= b;
        flags = Szp(r, size) | (cf ? X86.Flags.CF : 0)
            | (((a ^ b) & (a ^ r) & Sign(size)) != 0 ? X86.Flags.OF : 0)
            | (((a ^ b ^ r) & 0x10) != 0 ? X86.Flags.AF : 0);
        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Logic(ulong r, int size, out ulong flags)
    {
        r &= Interpreter_SizeMask(size);
        flags = Szp(r, size);
        return r;
    }
}
