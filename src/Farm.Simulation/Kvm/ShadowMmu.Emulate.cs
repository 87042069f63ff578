using Farm.Simulation.X86;

namespace Farm.Simulation.Kvm;

/// <summary>x86_emulate_instruction with EMULTYPE_RETRY (3.3) and the rep restart every 1024 elements.</summary>
public sealed partial class ShadowMmu : IEmulatedWriteSink
{
    // Emulation runs for the vCPU being served (_serving, set by Serve and Continue); a flag
    // rather than a second reference spares a GC write barrier on every emulated element.
    private bool _emulating;

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

    /// <summary>One element (or one whole non-string instruction); each write goes to kvm_mmu_pte_write.</summary>
    private MmuStep EmulateStep(KvmVcpu v)
    {
        System.Diagnostics.Debug.Assert(ReferenceEquals(v, _serving));
        _emulating = true;
        bool retired = v.Interpreter.EmulateOne(this, 1, out var error);
        _emulating = false;
        if (error is not null) throw new ModelException($"emulation failed on vCPU {v.Id}: {error.Message}");
        if (retired) return Finish(v, ReplyKind.Emulated);
        ref readonly var ins = ref v.Interpreter.Code.Get(v.Interpreter.Cpu.Rip); // no copy of the decoded instruction
        ulong count = ins.Op0Kind == Iced.Intel.OpKind.MemoryESRDI ? v.Interpreter.Cpu.Rcx : (uint)v.Interpreter.Cpu.Rcx;
        if ((count & 1023) == 0) return Finish(v, ReplyKind.Reenter);
        v.GuestSince = long.MaxValue; // still in the host, emulating
        return new MmuStep(false, _now, default);
    }

    /// <summary>emulator_write_emulated: the write is in guest memory; now the shadow follows.</summary>
    void IEmulatedWriteSink.OnEmulatedWrite(ulong address, int size, ulong value)
    {
        var v = _emulating ? _serving! : throw new InvalidOperationException("emulated write outside emulation");
        Stats.EmulatedElements++;
        _now += _cost.EmulateElement;
        PteWrite(v, address, size, guestInitiated: true, LockSite.PteWrite);
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
