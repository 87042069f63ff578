using Farm.Simulation.X86;

namespace Farm.Simulation.Kvm;

/// <summary>x86_emulate_instruction with EMULTYPE_RETRY (3.3) and the rep restart every 1024 elements.</summary>
public sealed partial class ShadowMmu : IEmulatedWriteSink
{
    // Emulation runs for the vCPU being served (_serving, set by Serve and Continue); a flag
    // rather than a second reference spares a GC write barrier on every emulated element.
    private bool _emulating;
    // Steps served by the current Serve or Continue call (the first and the elements after it).
    private long _steps;

    /// <summary>
    /// Decode the faulting instruction; in 3.3, an instruction that is not page-table-writing
    /// (and whose (rip, address) was not just retried) unprotects the gfn and is re-executed by
    /// the guest. Otherwise emulation starts, one element per step.
    /// </summary>
    private MmuStep StartEmulation(KvmVcpu v, ulong cr2)
    {
        _now += _cost.Emulate;
        if (!_policy.TopupOnPteWrite) TopupCaches(v); // 3.1 kvm_mmu_page_fault: topup before x86_emulate_instruction
        var ins = v.Interpreter.PeekInstruction();
        ulong rip = v.Interpreter.Cpu.Rip;
        ulong gfn = cr2 >> 12;
        // 3.3 retry_instruction forgets the last retried pair on every call, retried or not.
        ulong lastEip = v.LastRetryEip, lastAddr = v.LastRetryAddr;
        if (_policy.RetryNonPtWrites) v.LastRetryEip = v.LastRetryAddr = 0;
        if (_policy.RetryNonPtWrites && !InstructionClass.IsPageTableWritingInstruction(ins)
            && !(lastEip == rip && lastAddr == cr2))
        {
            v.LastRetryEip = rip;
            v.LastRetryAddr = cr2;
            var work = new LockWork();
            UnprotectPage(gfn, ref work);
            Release(v, LockSite.Unprotect, work);
            Stats.Retried++;
            return Finish(v, ReplyKind.Retry);
        }
        Stats.EmulatedInstructions++;
        if (!IsLive(gfn)) Stats.EmulationsOnDeadPages++;
        return EmulateStep(v);
    }

    /// <summary>
    /// One element (or one whole non-string instruction); each write goes to kvm_mmu_pte_write.
    /// The elements after it whose steps are due at or before <see cref="_through"/> are emulated
    /// in the same call (each still its own step: <see cref="_steps"/>), with the interpreter's
    /// instruction set up once for them.
    /// </summary>
    private MmuStep EmulateStep(KvmVcpu v)
    {
        System.Diagnostics.Debug.Assert(ReferenceEquals(v, _serving));
        var it = v.Interpreter;
        ref readonly var ins = ref it.Code.Get(it.Cpu.Rip); // no copy of the decoded instruction
        // stos/movs address ES:rDI; the count is rCX of the instruction's address size.
        bool wide = ins.Op0Kind == Iced.Intel.OpKind.MemoryESRDI;
        bool repString = (wide || ins.Op0Kind == Iced.Intel.OpKind.MemoryESEDI) && (ins.HasRepPrefix || ins.HasRepnePrefix);
        ulong before = RepCount(it, wide);
        // A rep string goes back to the guest (Reenter) when its count reaches a multiple of 1024:
        // no run of elements goes past that; OnEmulatedWrite ends it at the first step not due by _through.
        long limit = (before & 1023) == 0 ? 1024 : (long)(before & 1023);
        _emulating = true;
        bool retired = it.EmulateOne(this, limit, out var error);
        _emulating = false;
        if (error is not null) throw new ModelException($"emulation failed on vCPU {v.Id}: {error.Message}");
        ulong count = RepCount(it, wide);
        if (repString && before - count > 1) _steps += (long)(before - count) - 1; // one step per element
        if (retired) return Finish(v, ReplyKind.Emulated);
        if ((count & 1023) == 0) return Finish(v, ReplyKind.Reenter);
        v.GuestSince = long.MaxValue; // still in the host, emulating
        return new MmuStep(false, _now, default);
    }

    private static ulong RepCount(Interpreter it, bool wide) => wide ? it.Cpu.Rcx : (uint)it.Cpu.Rcx;

    /// <summary>emulator_write_emulated: the write is in guest memory; now the shadow follows.</summary>
    void IEmulatedWriteSink.OnEmulatedWrite(ulong address, int size, ulong value)
    {
        var v = _emulating ? _serving! : throw new InvalidOperationException("emulated write outside emulation");
        Stats.EmulatedElements++;
        _now += _cost.EmulateElement;
        PteWrite(v, address, size, guestInitiated: true, LockSite.PteWrite);
        // The next element's step is due now; past _through it is the engine's to serve, later.
        if (_now > _through) v.Interpreter.PauseEmulation();
    }

    /// <summary>A user-space store to a write-protected page table, emulated as one 8-byte element.</summary>
    private void EmulateStore(KvmVcpu v, ulong gpa)
    {
        _now += _cost.Emulate;
        if (!_policy.TopupOnPteWrite) TopupCaches(v); // 3.1 kvm_mmu_page_fault: topup before x86_emulate_instruction
        if (_policy.RetryNonPtWrites) v.LastRetryEip = v.LastRetryAddr = 0; // retry_instruction ran (a mov: not retried)
        Stats.EmulatedInstructions++;
        if (!IsLive(gpa >> 12)) Stats.EmulationsOnDeadPages++;
        Stats.EmulatedElements++;
        _now += _cost.EmulateElement;
        PteWrite(v, gpa, 8, guestInitiated: true, LockSite.PteWrite);
    }
}

/// <summary>The model reached a state it cannot go on from (ends the trial as outcome "error").</summary>
public sealed class ModelException(string message) : Exception(message);
