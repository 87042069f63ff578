using Farm.Simulation.X86.Internal.Handlers;
using Iced.Intel;

namespace Farm.Simulation.X86.Internal;

/// <summary>Mnemonic to handler. Anything not listed is the supported subset's edge: a clear error.</summary>
internal static class HandlerTable
{
    public static readonly OpHandler[] ByMnemonic = Build();

    /// <summary>The same handlers indexed by Iced's Code (a field of the instruction): the generic
    /// handler of each decoded instruction, which HandlerSelector replaces for the common forms.</summary>
    public static readonly OpHandler[] ByCode = BuildByCode();

    private static OpHandler[] BuildByCode()
    {
        var table = new OpHandler[(int)Enum.GetValues<Code>().Max() + 1];
        for (int c = 0; c < table.Length; c++) table[c] = ByMnemonic[(int)((Code)c).Mnemonic()];
        return table;
    }

    private static OpHandler[] Build()
    {
        var table = new OpHandler[(int)Enum.GetValues<Mnemonic>().Max() + 1];
        Array.Fill(table, UnsupportedHandler.Instance);
        void Set(OpHandler h, params Mnemonic[] ms) { foreach (var m in ms) table[(int)m] = h; }

        Set(MovHandler.Instance, Mnemonic.Mov);
        Set(MovExtendHandler.Zero, Mnemonic.Movzx);
        Set(MovExtendHandler.Sign, Mnemonic.Movsx, Mnemonic.Movsxd);
        Set(LeaHandler.Instance, Mnemonic.Lea);
        Set(XchgHandler.Instance, Mnemonic.Xchg);
        Set(XaddHandler.Instance, Mnemonic.Xadd);
        Set(CmpxchgHandler.Instance, Mnemonic.Cmpxchg);
        Set(Cmpxchg8bHandler.Instance, Mnemonic.Cmpxchg8b);
        Set(CmovHandler.Instance, Mnemonic.Cmovo, Mnemonic.Cmovno, Mnemonic.Cmovb, Mnemonic.Cmovae, Mnemonic.Cmove, Mnemonic.Cmovne,
            Mnemonic.Cmovbe, Mnemonic.Cmova, Mnemonic.Cmovs, Mnemonic.Cmovns, Mnemonic.Cmovp, Mnemonic.Cmovnp, Mnemonic.Cmovl,
            Mnemonic.Cmovge, Mnemonic.Cmovle, Mnemonic.Cmovg);
        Set(SetccHandler.Instance, Mnemonic.Seto, Mnemonic.Setno, Mnemonic.Setb, Mnemonic.Setae, Mnemonic.Sete, Mnemonic.Setne,
            Mnemonic.Setbe, Mnemonic.Seta, Mnemonic.Sets, Mnemonic.Setns, Mnemonic.Setp, Mnemonic.Setnp, Mnemonic.Setl,
            Mnemonic.Setge, Mnemonic.Setle, Mnemonic.Setg);
        Set(new SignExtendAccHandler(1, false), Mnemonic.Cbw);
        Set(new SignExtendAccHandler(2, false), Mnemonic.Cwde);
        Set(new SignExtendAccHandler(4, false), Mnemonic.Cdqe);
        Set(new SignExtendAccHandler(2, true), Mnemonic.Cwd);
        Set(new SignExtendAccHandler(4, true), Mnemonic.Cdq);
        Set(new SignExtendAccHandler(8, true), Mnemonic.Cqo);
        Set(BswapHandler.Instance, Mnemonic.Bswap);
        Set(NopHandler.Instance, Mnemonic.Nop, Mnemonic.Endbr64, Mnemonic.Endbr32, Mnemonic.Pause,
            Mnemonic.Lfence, Mnemonic.Mfence, Mnemonic.Sfence, Mnemonic.Prefetchnta, Mnemonic.Prefetcht0,
            Mnemonic.Prefetcht1, Mnemonic.Prefetcht2, Mnemonic.Prefetchw);

        Set(new BinaryAluHandler(AluOp.Add), Mnemonic.Add);
        Set(new BinaryAluHandler(AluOp.Adc), Mnemonic.Adc);
        Set(new BinaryAluHandler(AluOp.Sub), Mnemonic.Sub);
        Set(new BinaryAluHandler(AluOp.Sbb), Mnemonic.Sbb);
        Set(new BinaryAluHandler(AluOp.And), Mnemonic.And);
        Set(new BinaryAluHandler(AluOp.Or), Mnemonic.Or);
        Set(new BinaryAluHandler(AluOp.Xor), Mnemonic.Xor);
        Set(new BinaryAluHandler(AluOp.Cmp), Mnemonic.Cmp);
        Set(new BinaryAluHandler(AluOp.Test), Mnemonic.Test);
        Set(new UnaryAluHandler(UnaryOp.Not), Mnemonic.Not);
        Set(new UnaryAluHandler(UnaryOp.Neg), Mnemonic.Neg);
        Set(new UnaryAluHandler(UnaryOp.Inc), Mnemonic.Inc);
        Set(new UnaryAluHandler(UnaryOp.Dec), Mnemonic.Dec);
        Set(MultiplyHandler.Imul, Mnemonic.Imul);
        Set(MultiplyHandler.Mul, Mnemonic.Mul);
        Set(DivideHandler.Idiv, Mnemonic.Idiv);
        Set(DivideHandler.Div, Mnemonic.Div);

        Set(new ShiftHandler(ShiftOp.Shl), Mnemonic.Shl, Mnemonic.Sal);
        Set(new ShiftHandler(ShiftOp.Shr), Mnemonic.Shr);
        Set(new ShiftHandler(ShiftOp.Sar), Mnemonic.Sar);
        Set(new ShiftHandler(ShiftOp.Rol), Mnemonic.Rol);
        Set(new ShiftHandler(ShiftOp.Ror), Mnemonic.Ror);

        Set(new BitTestHandler(BitOp.Test), Mnemonic.Bt);
        Set(new BitTestHandler(BitOp.Set), Mnemonic.Bts);
        Set(new BitTestHandler(BitOp.Reset), Mnemonic.Btr);
        Set(new BitTestHandler(BitOp.Complement), Mnemonic.Btc);
        foreach (var m in new[] { Mnemonic.Bsf, Mnemonic.Bsr, Mnemonic.Tzcnt, Mnemonic.Lzcnt, Mnemonic.Popcnt })
            Set(new BitScanHandler(m), m);

        Set(StringHandler.Stos, Mnemonic.Stosb, Mnemonic.Stosw, Mnemonic.Stosd, Mnemonic.Stosq);
        Set(StringHandler.Movs, Mnemonic.Movsb, Mnemonic.Movsw, Mnemonic.Movsq);
        Set(LodsHandler.Instance, Mnemonic.Lodsb, Mnemonic.Lodsw, Mnemonic.Lodsd, Mnemonic.Lodsq);
        // Mnemonic.Movsd is both the string move and the SSE scalar move; the handler tells them apart.
        Set(new MovsdDisambiguator(), Mnemonic.Movsd);

        Set(JmpHandler.Instance, Mnemonic.Jmp);
        Set(JccHandler.Instance, Mnemonic.Jo, Mnemonic.Jno, Mnemonic.Jb, Mnemonic.Jae, Mnemonic.Je, Mnemonic.Jne,
            Mnemonic.Jbe, Mnemonic.Ja, Mnemonic.Js, Mnemonic.Jns, Mnemonic.Jp, Mnemonic.Jnp, Mnemonic.Jl,
            Mnemonic.Jge, Mnemonic.Jle, Mnemonic.Jg);
        Set(CallHandler.Instance, Mnemonic.Call);
        Set(RetHandler.Instance, Mnemonic.Ret);
        foreach (var m in new[] { Mnemonic.Loop, Mnemonic.Loope, Mnemonic.Loopne, Mnemonic.Jrcxz, Mnemonic.Jecxz })
            Set(new LoopHandler(m), m);
        Set(PushHandler.Instance, Mnemonic.Push);
        Set(PopHandler.Instance, Mnemonic.Pop);
        Set(LeaveHandler.Instance, Mnemonic.Leave);
        return table;
    }

    private sealed class MovsdDisambiguator : OpHandler
    {
        public override bool Execute(Interpreter it, in Instruction ins) =>
            ins.IsStringInstruction
                ? StringHandler.Movs.Execute(it, ins)
                : UnsupportedHandler.Instance.Execute(it, ins);
    }
}
