using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Iced.Intel;

namespace Farm.Simulation.X86.Internal.Handlers;

// Type parameters of the form-specialised handlers (FastHandlers.cs). Each is a struct with
// static members, so the JIT compiles one copy of a handler per combination with the operand
// size, immediate encoding, address form and operation folded to constants.

/// <summary>A 32- or 64-bit general-purpose register operand.</summary>
internal interface IGprSize
{
    static abstract int Bytes { get; }
    /// <summary>EAX or RAX: Iced numbers the 16 registers of one size consecutively in encoding order.</summary>
    static abstract Register First { get; }
}

internal struct Gpr32 : IGprSize
{
    public static int Bytes => 4;
    public static Register First => Register.EAX;
}

internal struct Gpr64 : IGprSize
{
    public static int Bytes => 8;
    public static Register First => Register.RAX;
}

internal static class Gpr
{
    static Gpr()
    {
        // Slot<TSize> relies on Iced's register numbering; check it once against the register table.
        for (int i = 0; i < 16; i++)
        {
            if (RegisterMap.Info[(int)(Register.RAX + i)] != new RegisterMap.RegInfo(i, 8, false)
                || RegisterMap.Info[(int)(Register.EAX + i)] != new RegisterMap.RegInfo(i, 4, false))
                throw new InvalidOperationException("unexpected Iced register numbering");
        }
    }

    /// <summary>The register file slot of <paramref name="reg"/>, a GPR of size <typeparamref name="TSize"/>
    /// (the handler selector guarantees it, so no bounds check).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref ulong Slot<TSize>(ulong[] r, Register reg) where TSize : struct, IGprSize =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(r), (nint)((int)reg - (int)TSize.First));

    /// <summary>ReadReg for a full 32- or 64-bit GPR.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Get<TSize>(ulong[] r, Register reg) where TSize : struct, IGprSize =>
        TSize.Bytes == 8 ? Slot<TSize>(r, reg) : (uint)Slot<TSize>(r, reg);

    /// <summary>WriteReg for a full 32- or 64-bit GPR (a 32-bit write zero-extends).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set<TSize>(ulong[] r, Register reg, ulong value) where TSize : struct, IGprSize =>
        Slot<TSize>(r, reg) = TSize.Bytes == 8 ? value : (uint)value;

    public static bool Is<TSize>(Register reg) where TSize : struct, IGprSize =>
        reg >= TSize.First && reg < TSize.First + 16;
}

/// <summary>An immediate operand's encoding: its value as Iced's GetImmediate gives it.</summary>
internal interface IImmediate
{
    static abstract OpKind Kind { get; }
    static abstract ulong Get(in Instruction ins);
}

internal struct Imm8 : IImmediate
{
    public static OpKind Kind => OpKind.Immediate8;
    public static ulong Get(in Instruction ins) => ins.Immediate8;
}

internal struct Imm32 : IImmediate
{
    public static OpKind Kind => OpKind.Immediate32;
    public static ulong Get(in Instruction ins) => ins.Immediate32;
}

internal struct Imm64 : IImmediate
{
    public static OpKind Kind => OpKind.Immediate64;
    public static ulong Get(in Instruction ins) => ins.Immediate64;
}

internal struct Imm8to32 : IImmediate
{
    public static OpKind Kind => OpKind.Immediate8to32;
    public static ulong Get(in Instruction ins) => (ulong)(long)ins.Immediate8to32;
}

internal struct Imm8to64 : IImmediate
{
    public static OpKind Kind => OpKind.Immediate8to64;
    public static ulong Get(in Instruction ins) => (ulong)ins.Immediate8to64;
}

internal struct Imm32to64 : IImmediate
{
    public static OpKind Kind => OpKind.Immediate32to64;
    public static ulong Get(in Instruction ins) => (ulong)ins.Immediate32to64;
}

/// <summary>A memory operand's address form: [base + displacement] with a 32- or 64-bit
/// base register and no index (the forms kernel routines use most).</summary>
internal interface IAddress
{
    static abstract ulong Effective(ulong[] r, in Instruction ins);
}

/// <summary>[base64 + disp]: Interpreter.EffectiveAddress with a 64-bit base and no index.</summary>
internal struct Base64Disp : IAddress
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Effective(ulong[] r, in Instruction ins) =>
        ins.MemoryDisplacement64 + Gpr.Slot<Gpr64>(r, ins.MemoryBase);
}

/// <summary>[base32 + disp]: 32-bit address arithmetic, truncated as EffectiveAddress does.</summary>
internal struct Base32Disp : IAddress
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Effective(ulong[] r, in Instruction ins) =>
        (uint)(ins.MemoryDisplacement64 + Gpr.Slot<Gpr32>(r, ins.MemoryBase));
}

/// <summary>The two-operand ALU operations as type parameters.</summary>
internal interface IAluOp
{
    static abstract AluOp Op { get; }
}

internal struct AddOp : IAluOp { public static AluOp Op => AluOp.Add; }
internal struct AdcOp : IAluOp { public static AluOp Op => AluOp.Adc; }
internal struct SubOp : IAluOp { public static AluOp Op => AluOp.Sub; }
internal struct SbbOp : IAluOp { public static AluOp Op => AluOp.Sbb; }
internal struct AndOp : IAluOp { public static AluOp Op => AluOp.And; }
internal struct OrOp : IAluOp { public static AluOp Op => AluOp.Or; }
internal struct XorOp : IAluOp { public static AluOp Op => AluOp.Xor; }
internal struct CmpOp : IAluOp { public static AluOp Op => AluOp.Cmp; }
internal struct TestOp : IAluOp { public static AluOp Op => AluOp.Test; }

internal interface IShiftOp
{
    static abstract ShiftOp Op { get; }
}

internal struct ShlOp : IShiftOp { public static ShiftOp Op => ShiftOp.Shl; }
internal struct ShrOp : IShiftOp { public static ShiftOp Op => ShiftOp.Shr; }
internal struct SarOp : IShiftOp { public static ShiftOp Op => ShiftOp.Sar; }
internal struct RolOp : IShiftOp { public static ShiftOp Op => ShiftOp.Rol; }
internal struct RorOp : IShiftOp { public static ShiftOp Op => ShiftOp.Ror; }

internal interface IUnaryOp
{
    static abstract UnaryOp Op { get; }
}

internal struct NotOp : IUnaryOp { public static UnaryOp Op => UnaryOp.Not; }
internal struct NegOp : IUnaryOp { public static UnaryOp Op => UnaryOp.Neg; }
internal struct IncOp : IUnaryOp { public static UnaryOp Op => UnaryOp.Inc; }
internal struct DecOp : IUnaryOp { public static UnaryOp Op => UnaryOp.Dec; }
