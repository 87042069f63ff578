using Iced.Intel;

namespace Farm.Simulation.X86;

/// <summary>
/// What KVM's instruction decoder learns about a faulting instruction: whether it is one of
/// the page-table-writing instructions (KVM's <c>PageTable</c> decode flag, Linux 3.3
/// emulate.c), a string instruction, rep- or lock-prefixed, and its memory operand size.
/// </summary>
public readonly record struct InstructionClass(
    Mnemonic Mnemonic,
    bool IsPageTableWriting,
    bool IsString,
    bool IsRep,
    bool IsLock,
    bool HasMemoryOperand,
    int MemoryOperandSize)
{
    public static InstructionClass Of(in Instruction ins)
    {
        bool isString = ins.IsStringInstruction;
        bool memory = isString || HasMemory(ins);
        return new InstructionClass(
            ins.Mnemonic,
            IsPageTableWritingInstruction(ins),
            isString,
            isString && (ins.HasRepPrefix || ins.HasRepnePrefix),
            ins.HasLockPrefix || (ins.Mnemonic == Mnemonic.Xchg && memory),
            memory,
            memory ? ins.MemorySize.GetSize() : 0);
    }

    /// <summary>
    /// The page-table-writing set of KVM-MODEL.md: or, and (group-1 immediate forms too),
    /// xchg with memory, mov to memory (from register, immediate, moffs or segment register),
    /// bts, btc, cmpxchg, cmpxchg8b and cmpxchg16b (one entry, 0F C7 /1, in 3.3's group9 table) —
    /// with a memory destination. Not btr, add, sub, xor, nor
    /// any string instruction: those are retried in kvm-3.3.
    /// </summary>
    public static bool IsPageTableWritingInstruction(in Instruction ins)
    {
        switch (ins.Mnemonic)
        {
            case Mnemonic.Or:
            case Mnemonic.And:
            case Mnemonic.Mov:
            case Mnemonic.Bts:
            case Mnemonic.Btc:
            case Mnemonic.Cmpxchg:
            case Mnemonic.Cmpxchg8b:
            case Mnemonic.Cmpxchg16b:
                return ins.Op0Kind == OpKind.Memory;
            case Mnemonic.Xchg:
                return ins.Op0Kind == OpKind.Memory || ins.Op1Kind == OpKind.Memory;
            default:
                return false;
        }
    }

    private static bool HasMemory(in Instruction ins)
    {
        for (int i = 0; i < ins.OpCount; i++)
            if (ins.GetOpKind(i) == OpKind.Memory) return true;
        return false;
    }
}
