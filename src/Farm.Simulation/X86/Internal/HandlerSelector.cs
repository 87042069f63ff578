using Farm.Simulation.X86.Internal.Handlers;
using Iced.Intel;

namespace Farm.Simulation.X86.Internal;

/// <summary>
/// Chooses an instruction's handler once, when it is decoded: a form-specialised handler
/// (FastHandlers.cs) for the common forms with 32- or 64-bit general-purpose registers,
/// immediates and [base + displacement] addresses, else the generic handler for its Code.
/// </summary>
internal static class HandlerSelector
{
    public static OpHandler For(in Instruction ins)
    {
        var generic = HandlerTable.ByCode[(int)ins.Code];
        return generic switch
        {
            BinaryAluHandler alu => Alu(alu.Op, ins),
            UnaryAluHandler unary => Unary(unary.Op, ins),
            ShiftHandler shift => Shift(shift.Op, ins),
            MovHandler => Mov(ins),
            LeaHandler => Lea(ins),
            StringHandler str => String(str.IsMovs, ins),
            _ when ins.Mnemonic == Mnemonic.Movsd && ins.IsStringInstruction => String(true, ins),
            JccHandler when ins.Op0Kind is OpKind.NearBranch64 or OpKind.NearBranch32 =>
                new JccRel(ins.ConditionCode, ins.Op0Kind == OpKind.NearBranch64),
            _ => null,
        } ?? generic;
    }

    private enum Address { Other, Base64, Base32 }

    /// <summary>The memory operand's form; [base + disp] with a GPR base and no index is specialised.</summary>
    private static Address AddressOf(in Instruction ins)
    {
        if (ins.MemoryIndex != Register.None) return Address.Other;
        if (Gpr.Is<Gpr64>(ins.MemoryBase)) return Address.Base64;
        if (Gpr.Is<Gpr32>(ins.MemoryBase)) return Address.Base32;
        return Address.Other;
    }

    private static OpHandler? Alu(AluOp op, in Instruction ins) => op switch
    {
        AluOp.Add => Alu<AddOp>(ins),
        AluOp.Adc => Alu<AdcOp>(ins),
        AluOp.Sub => Alu<SubOp>(ins),
        AluOp.Sbb => Alu<SbbOp>(ins),
        AluOp.And => Alu<AndOp>(ins),
        AluOp.Or => Alu<OrOp>(ins),
        AluOp.Xor => Alu<XorOp>(ins),
        AluOp.Cmp => Alu<CmpOp>(ins),
        _ => Alu<TestOp>(ins),
    };

    private static OpHandler? Alu<TOp>(in Instruction ins) where TOp : struct, IAluOp
    {
        if (ins.OpCount != 2) return null;
        if (ins.Op0Kind == OpKind.Register)
        {
            if (Gpr.Is<Gpr64>(ins.Op0Register)) return AluR<TOp, Gpr64>(ins);
            if (Gpr.Is<Gpr32>(ins.Op0Register)) return AluR<TOp, Gpr32>(ins);
            return null;
        }
        if (ins.Op0Kind != OpKind.Memory) return null;
        return ins.MemorySize.GetSize() switch
        {
            8 => AluM<TOp, Gpr64>(ins),
            4 => AluM<TOp, Gpr32>(ins),
            _ => null,
        };
    }

    private static OpHandler? AluR<TOp, TSize>(in Instruction ins) where TOp : struct, IAluOp where TSize : struct, IGprSize
    {
        switch (ins.Op1Kind)
        {
            case OpKind.Register:
                return Gpr.Is<TSize>(ins.Op1Register) ? Single<AluRR<TOp, TSize>>.Instance : null;
            case OpKind.Memory when ins.MemorySize.GetSize() == TSize.Bytes:
                return AddressOf(ins) switch
                {
                    Address.Base64 => Single<AluRM<TOp, TSize, Base64Disp>>.Instance,
                    Address.Base32 => Single<AluRM<TOp, TSize, Base32Disp>>.Instance,
                    _ => null,
                };
            case OpKind.Immediate8to64 when TSize.Bytes == 8: return Single<AluRI<TOp, TSize, Imm8to64>>.Instance;
            case OpKind.Immediate32to64 when TSize.Bytes == 8: return Single<AluRI<TOp, TSize, Imm32to64>>.Instance;
            case OpKind.Immediate8to32 when TSize.Bytes == 4: return Single<AluRI<TOp, TSize, Imm8to32>>.Instance;
            case OpKind.Immediate32 when TSize.Bytes == 4: return Single<AluRI<TOp, TSize, Imm32>>.Instance;
            default: return null;
        }
    }

    private static OpHandler? AluM<TOp, TSize>(in Instruction ins) where TOp : struct, IAluOp where TSize : struct, IGprSize =>
        AddressOf(ins) switch
        {
            Address.Base64 => AluM<TOp, TSize, Base64Disp>(ins),
            Address.Base32 => AluM<TOp, TSize, Base32Disp>(ins),
            _ => null,
        };

    private static OpHandler? AluM<TOp, TSize, TAddr>(in Instruction ins)
        where TOp : struct, IAluOp where TSize : struct, IGprSize where TAddr : struct, IAddress => ins.Op1Kind switch
        {
            OpKind.Register when Gpr.Is<TSize>(ins.Op1Register) => Single<AluMR<TOp, TSize, TAddr>>.Instance,
            OpKind.Immediate8to64 when TSize.Bytes == 8 => Single<AluMI<TOp, TSize, TAddr, Imm8to64>>.Instance,
            OpKind.Immediate32to64 when TSize.Bytes == 8 => Single<AluMI<TOp, TSize, TAddr, Imm32to64>>.Instance,
            OpKind.Immediate8to32 when TSize.Bytes == 4 => Single<AluMI<TOp, TSize, TAddr, Imm8to32>>.Instance,
            OpKind.Immediate32 when TSize.Bytes == 4 => Single<AluMI<TOp, TSize, TAddr, Imm32>>.Instance,
            _ => null,
        };

    private static OpHandler? Unary(UnaryOp op, in Instruction ins)
    {
        if (ins.Op0Kind != OpKind.Register) return null;
        bool is64 = Gpr.Is<Gpr64>(ins.Op0Register);
        if (!is64 && !Gpr.Is<Gpr32>(ins.Op0Register)) return null;
        return (op, is64) switch
        {
            (UnaryOp.Not, true) => Single<UnaryR<NotOp, Gpr64>>.Instance,
            (UnaryOp.Not, false) => Single<UnaryR<NotOp, Gpr32>>.Instance,
            (UnaryOp.Neg, true) => Single<UnaryR<NegOp, Gpr64>>.Instance,
            (UnaryOp.Neg, false) => Single<UnaryR<NegOp, Gpr32>>.Instance,
            (UnaryOp.Inc, true) => Single<UnaryR<IncOp, Gpr64>>.Instance,
            (UnaryOp.Inc, false) => Single<UnaryR<IncOp, Gpr32>>.Instance,
            (UnaryOp.Dec, true) => Single<UnaryR<DecOp, Gpr64>>.Instance,
            _ => Single<UnaryR<DecOp, Gpr32>>.Instance,
        };
    }

    private static OpHandler? Shift(ShiftOp op, in Instruction ins)
    {
        if (ins.Op0Kind != OpKind.Register || ins.Op1Kind != OpKind.Immediate8) return null;
        bool is64 = Gpr.Is<Gpr64>(ins.Op0Register);
        if (!is64 && !Gpr.Is<Gpr32>(ins.Op0Register)) return null;
        return (op, is64) switch
        {
            (ShiftOp.Shl, true) => Single<ShiftRI<ShlOp, Gpr64>>.Instance,
            (ShiftOp.Shl, false) => Single<ShiftRI<ShlOp, Gpr32>>.Instance,
            (ShiftOp.Shr, true) => Single<ShiftRI<ShrOp, Gpr64>>.Instance,
            (ShiftOp.Shr, false) => Single<ShiftRI<ShrOp, Gpr32>>.Instance,
            (ShiftOp.Sar, true) => Single<ShiftRI<SarOp, Gpr64>>.Instance,
            (ShiftOp.Sar, false) => Single<ShiftRI<SarOp, Gpr32>>.Instance,
            (ShiftOp.Rol, true) => Single<ShiftRI<RolOp, Gpr64>>.Instance,
            (ShiftOp.Rol, false) => Single<ShiftRI<RolOp, Gpr32>>.Instance,
            (ShiftOp.Ror, true) => Single<ShiftRI<RorOp, Gpr64>>.Instance,
            _ => Single<ShiftRI<RorOp, Gpr32>>.Instance,
        };
    }

    private static OpHandler? Mov(in Instruction ins)
    {
        if (ins.Op0Kind == OpKind.Register)
        {
            if (Gpr.Is<Gpr64>(ins.Op0Register)) return MovR<Gpr64>(ins);
            if (Gpr.Is<Gpr32>(ins.Op0Register)) return MovR<Gpr32>(ins);
            return null;
        }
        if (ins.Op0Kind != OpKind.Memory) return null;
        return (ins.MemorySize.GetSize(), AddressOf(ins)) switch
        {
            (8, Address.Base64) => MovM<Gpr64, Base64Disp>(ins),
            (8, Address.Base32) => MovM<Gpr64, Base32Disp>(ins),
            (4, Address.Base64) => MovM<Gpr32, Base64Disp>(ins),
            (4, Address.Base32) => MovM<Gpr32, Base32Disp>(ins),
            _ => null,
        };
    }

    private static OpHandler? MovR<TSize>(in Instruction ins) where TSize : struct, IGprSize => ins.Op1Kind switch
    {
        OpKind.Register when Gpr.Is<TSize>(ins.Op1Register) => Single<MovRR<TSize>>.Instance,
        OpKind.Memory when ins.MemorySize.GetSize() == TSize.Bytes => AddressOf(ins) switch
        {
            Address.Base64 => Single<MovRM<TSize, Base64Disp>>.Instance,
            Address.Base32 => Single<MovRM<TSize, Base32Disp>>.Instance,
            _ => null,
        },
        OpKind.Immediate64 when TSize.Bytes == 8 => Single<MovRI<TSize, Imm64>>.Instance,
        OpKind.Immediate32to64 when TSize.Bytes == 8 => Single<MovRI<TSize, Imm32to64>>.Instance,
        OpKind.Immediate32 when TSize.Bytes == 4 => Single<MovRI<TSize, Imm32>>.Instance,
        _ => null,
    };

    private static OpHandler? MovM<TSize, TAddr>(in Instruction ins) where TSize : struct, IGprSize where TAddr : struct, IAddress =>
        ins.Op1Kind switch
        {
            OpKind.Register when Gpr.Is<TSize>(ins.Op1Register) => Single<MovMR<TSize, TAddr>>.Instance,
            OpKind.Immediate32to64 when TSize.Bytes == 8 => Single<MovMI<TSize, TAddr, Imm32to64>>.Instance,
            OpKind.Immediate32 when TSize.Bytes == 4 => Single<MovMI<TSize, TAddr, Imm32>>.Instance,
            _ => null,
        };

    private static OpHandler? Lea(in Instruction ins)
    {
        if (ins.Op0Kind != OpKind.Register || ins.Op1Kind != OpKind.Memory) return null;
        bool is64 = Gpr.Is<Gpr64>(ins.Op0Register);
        if (!is64 && !Gpr.Is<Gpr32>(ins.Op0Register)) return null;
        return (is64, AddressOf(ins)) switch
        {
            (true, Address.Base64) => Single<LeaR<Gpr64, Base64Disp>>.Instance,
            (true, Address.Base32) => Single<LeaR<Gpr64, Base32Disp>>.Instance,
            (false, Address.Base64) => Single<LeaR<Gpr32, Base64Disp>>.Instance,
            (false, Address.Base32) => Single<LeaR<Gpr32, Base32Disp>>.Instance,
            _ => null,
        };
    }

    private static readonly StringForm?[] StringForms = new StringForm?[32];

    /// <summary>stos/movs with 32- or 64-bit addressing: size, address mask and rep fixed (one
    /// shared instance per combination).</summary>
    private static OpHandler? String(bool isMovs, in Instruction ins)
    {
        if (ins.Op0Kind is not (OpKind.MemoryESRDI or OpKind.MemoryESEDI)) return null;
        int size = ins.MemorySize.GetSize();
        if (size is not (1 or 2 or 4 or 8)) return null;
        bool addr64 = ins.Op0Kind == OpKind.MemoryESRDI;
        bool rep = ins.HasRepPrefix || ins.HasRepnePrefix;
        int index = (isMovs ? 16 : 0) + System.Numerics.BitOperations.Log2((uint)size) * 4 + (addr64 ? 2 : 0) + (rep ? 1 : 0);
        return StringForms[index] ??= new StringForm(isMovs, size, addr64 ? ulong.MaxValue : 0xffff_ffffUL, rep);
    }
}
