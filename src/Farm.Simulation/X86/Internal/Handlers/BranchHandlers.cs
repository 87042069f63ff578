using Iced.Intel;

namespace Farm.Simulation.X86.Internal.Handlers;

internal sealed class JmpHandler : OpHandler
{
    public static readonly JmpHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        it.Cpu.Rip = Target(it, ins);
        return true;
    }

    internal static ulong Target(Interpreter it, in Instruction ins) => ins.Op0Kind switch
    {
        OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64 => ins.NearBranchTarget,
        // jmp/call far [mem]: a 4-, 6- or 10-byte far pointer, not a near target.
        OpKind.Memory when ins.IsJmpFarIndirect || ins.IsCallFarIndirect =>
            GuestCodeException.ThrowULong("unsupported", "far branches are not supported"),
        OpKind.Register or OpKind.Memory => it.ReadOp(ins, 0, Interpreter.OpSize(ins, 0)),
        _ => GuestCodeException.ThrowULong("unsupported", "far branches are not supported"),
    };
}

internal sealed class JccHandler : OpHandler
{
    public static readonly JccHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        it.Cpu.Rip = Conditions.Holds(ins.ConditionCode, it.Cpu.Rflags) ? ins.NearBranchTarget : ins.NextIP;
        return true;
    }
}

internal sealed class CallHandler : OpHandler
{
    public static readonly CallHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        ulong target = JmpHandler.Target(it, ins);
        it.Push(ins.NextIP, it.StackSlot, ins, out bool ok);
        if (!ok) return false;
        it.Cpu.Rip = target;
        return true;
    }
}

internal sealed class RetHandler : OpHandler
{
    public static readonly RetHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        ulong target = it.Pop(it.StackSlot);
        if (ins.OpCount == 1) it.R[4] = it.Mask(it.R[4] + ins.Immediate16);
        it.Cpu.Rip = target;
        return true;
    }
}

/// <summary>loop/loope/loopne and jrcxz/jecxz; the count register's width follows the address size.</summary>
internal sealed class LoopHandler(Mnemonic kind) : OpHandler
{
    // Iced names the count register in the Code: ..._RCX, ..._ECX or ..._CX.
    private static readonly int[] CountWidth = Enum.GetValues<Code>().Aggregate(
        new int[(int)Enum.GetValues<Code>().Max() + 1],
        (table, c) =>
        {
            string name = c.ToString();
            table[(int)c] = name.EndsWith("_RCX", StringComparison.Ordinal) ? 8 : name.EndsWith("_ECX", StringComparison.Ordinal) ? 4 : 2;
            return table;
        });

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        // jrcxz/jecxz name their count register in the mnemonic (Iced's Code names the branch size).
        int width = kind switch { Mnemonic.Jrcxz => 8, Mnemonic.Jecxz => 4, _ => CountWidth[(int)ins.Code] };
        if (width == 2) GuestCodeException.Throw("unsupported", "16-bit count register is not supported");
        ulong amask = Interpreter.SizeMask(width);
        bool taken;
        if (kind is Mnemonic.Jrcxz or Mnemonic.Jecxz)
        {
            taken = (it.R[1] & amask) == 0;
        }
        else
        {
            ulong count = (it.R[1] - 1) & amask; // an ECX write zero-extends
            it.R[1] = count;
            bool zf = (it.Cpu.Rflags & Flags.ZF) != 0;
            taken = count != 0 && kind switch
            {
                Mnemonic.Loope => zf,
                Mnemonic.Loopne => !zf,
                _ => true,
            };
        }
        it.Cpu.Rip = taken ? ins.NearBranchTarget : ins.NextIP;
        return true;
    }
}

internal sealed class PushHandler : OpHandler
{
    public static readonly PushHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        int size = -ins.StackPointerIncrement;
        if (ins.Op0Kind == OpKind.Register && ins.Op0Register.IsSegmentRegister())
            GuestCodeException.Throw("unsupported", "push of a segment register is not supported");
        ulong v = it.ReadOp(ins, 0, size);
        it.Push(v, size, ins, out bool ok);
        return ok && Next(it, ins);
    }
}

internal sealed class PopHandler : OpHandler
{
    public static readonly PopHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        int size = ins.StackPointerIncrement;
        if (ins.Op0Kind == OpKind.Register && ins.Op0Register.IsSegmentRegister())
            GuestCodeException.Throw("unsupported", "pop into a segment register is not supported");
        ulong sp = it.R[4];
        ulong v = it.Pop(size);
        if (!it.WriteOp(ins, 0, size, v))
        {
            it.R[4] = sp;
            return false;
        }
        return Next(it, ins);
    }
}

internal sealed class LeaveHandler : OpHandler
{
    public static readonly LeaveHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        int size = it.StackSlot;
        it.R[4] = it.R[5];
        it.WriteReg(size == 8 ? Register.RBP : Register.EBP, it.Pop(size));
        return Next(it, ins);
    }
}
