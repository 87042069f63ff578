namespace Farm.Simulation.Kvm;

/// <summary>How engines drive the MMU: serve one request at its timestamp, step by step.</summary>
public sealed partial class ShadowMmu
{
    private long _now;
    private KvmVcpu? _serving;
    // Steps of a multi-step request due at or before _through are served within the same call
    // (an engine that would serve them next anyway asks for it); long.MinValue: one step a call.
    private long _through = long.MinValue;

    /// <summary>Serves <paramref name="request"/> of vCPU <paramref name="v"/> stamped <paramref name="time"/>
    /// (its first step only, if it has several).</summary>
    public MmuStep Serve(KvmVcpu v, MmuRequest request, long time) => Serve(v, request, time, long.MinValue, out _);

    /// <summary>
    /// Serves <paramref name="request"/> of vCPU <paramref name="v"/> stamped <paramref name="time"/> and,
    /// while it has another step due at or before <paramref name="through"/>, that step too, exactly
    /// as if each had been asked for in turn by <see cref="Continue(KvmVcpu, long)"/>: for an engine
    /// that would serve no other request before them. <paramref name="steps"/>: the steps served
    /// (each an engine event). The step returned is the last one served.
    /// </summary>
    public MmuStep Serve(KvmVcpu v, MmuRequest request, long time, long through, out long steps)
    {
        _through = through;
        _steps = 1;
        var step = ServeFirst(v, request, time);
        steps = _steps;
        return step;
    }

    /// <summary>Forced exits this vCPU took since its last request delay it first.</summary>
    private MmuStep ServeFirst(KvmVcpu v, MmuRequest request, long time)
    {
        _now = time + v.OwedCycles;
        v.OwedCycles = 0;
        _serving = v;
        if (request is HaltRequest)
        {
            v.Halted = true;
            v.SyncPending = v.SyncDeferred = false; // no entry follows
            return Finish(v, ReplyKind.Done);
        }
        if (_policy.Tdp) return ServeTdp(v, request); // Tdp/ShadowMmu.Tdp.cs
        if (v.SyncDeferred)
        {
            v.SyncDeferred = false;
            v.SyncPending = true;
        }
        if (v.ReloadPending || request is not Cr3Request) EnsureRoots(v);
        switch (request)
        {
            case UserAccessRequest a:
                return Finish(v, ServeUserAccess(v, a.Va, a.Write));
            case KernelWriteRequest w when _directMap is null:
                return KernelWriteFault(v, w.Address >> 12) ? StartEmulation(v, w.Address) : Finish(v, ReplyKind.Retry);
            case KernelWriteRequest w:
                return ServeKernelAccess(v, w.Address, write: true);
            case KernelReadRequest r:
                return ServeKernelAccess(v, r.Address, write: false);
            case Cr3Request c:
                Cr3Load(v, c.Cr3);
                return Finish(v, ReplyKind.Done);
            case InvlpgRequest i:
                Invlpg(v, i.Va);
                return Finish(v, ReplyKind.Done);
            default:
                throw new ArgumentException($"unknown MMU request {request}");
        }
    }

    /// <summary>The next step of a multi-step request (an emulated rep string, element by element).</summary>
    public MmuStep Continue(KvmVcpu v, long time) => Continue(v, time, long.MinValue, out _);

    /// <summary>The next step of a multi-step request and the steps after it due at or before
    /// <paramref name="through"/> (as <see cref="Serve(KvmVcpu, MmuRequest, long, long, out long)"/>).</summary>
    public MmuStep Continue(KvmVcpu v, long time, long through, out long steps)
    {
        _now = time;
        _serving = v;
        _through = through;
        _steps = 1;
        var step = EmulateStep(v);
        steps = _steps;
        return step;
    }

    private MmuStep Finish(KvmVcpu v, ReplyKind kind) => Finish(v, new MmuReply(kind, false));

    private MmuStep Finish(KvmVcpu v, MmuReply reply)
    {
        if (v.SyncPending)
        {
            // vcpu_enter_guest: KVM_REQ_MMU_SYNC syncs the roots (a no-op if a reload unloaded them).
            v.SyncPending = false;
            if (!v.ReloadPending && v.Roots.Length > 0) SyncRoots(v);
        }
        bool flush = v.ViewFlushPending;
        v.ViewFlushPending = false;
        v.GuestSince = _now;
        return new MmuStep(true, _now, reply with { FlushView = flush });
    }
}
