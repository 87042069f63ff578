namespace Farm.Simulation.Kvm;

/// <summary>
/// An interaction of a vCPU with the shared MMU, stamped with the vCPU's clock. A vCPU has at most
/// one request pending and no engine keeps one once it is served, so each vCPU reuses one instance
/// of each kind (<c>Reuse</c>): issuing a request allocates nothing (millions per run).
/// </summary>
public abstract record MmuRequest;

/// <summary>A user-space access with no valid translation in the vCPU's view.</summary>
public sealed record UserAccessRequest(ulong Va, bool Write) : MmuRequest
{
    public ulong Va { get; private set; } = Va;
    public bool Write { get; private set; } = Write;

    internal UserAccessRequest Reuse(ulong va, bool write)
    {
        Va = va;
        Write = write;
        return this;
    }
}

/// <summary>A guest-kernel write refused by the vCPU's gate (the interpreter stopped at it).</summary>
public sealed record KernelWriteRequest(ulong Address) : MmuRequest
{
    public ulong Address { get; private set; } = Address;

    internal KernelWriteRequest Reuse(ulong address)
    {
        Address = address;
        return this;
    }
}

/// <summary>A guest-kernel read through the direct map that found no spte (vm.direct_map: sptes).</summary>
public sealed record KernelReadRequest(ulong Address) : MmuRequest
{
    public ulong Address { get; private set; } = Address;

    internal KernelReadRequest Reuse(ulong address)
    {
        Address = address;
        return this;
    }
}

/// <summary>A CR3 write (context switch, or a same-CR3 TLB flush).</summary>
public sealed record Cr3Request(ulong Cr3) : MmuRequest
{
    public ulong Cr3 { get; private set; } = Cr3;

    internal Cr3Request Reuse(ulong cr3)
    {
        Cr3 = cr3;
        return this;
    }
}

/// <summary>invlpg of one guest virtual address.</summary>
public sealed record InvlpgRequest(ulong Va) : MmuRequest
{
    public ulong Va { get; private set; } = Va;

    internal InvlpgRequest Reuse(ulong va)
    {
        Va = va;
        return this;
    }
}

/// <summary>The vCPU's work is done: it halts and is out of guest mode from now on (no IPIs reach it).</summary>
public sealed record HaltRequest : MmuRequest;

public enum ReplyKind
{
    /// <summary>The shadow had a valid translation: no exit happened.</summary>
    Hit,
    /// <summary>A shadow fault installed the translation.</summary>
    Mapped,
    /// <summary>The guest walk failed: a #PF is injected into the guest kernel.</summary>
    InjectFault,
    /// <summary>Return to the guest, which re-executes the instruction (retry, unsync, or now writable).</summary>
    Retry,
    /// <summary>The instruction was emulated and retired.</summary>
    Emulated,
    /// <summary>A rep instruction was emulated up to a multiple of 1024 elements; the guest re-executes the rest.</summary>
    Reenter,
    /// <summary>A CR3 load or invlpg was handled.</summary>
    Done,
}

/// <summary>The MMU's answer. <see cref="FlushView"/>: remote TLB flushes reached this vCPU, drop its view.</summary>
public readonly record struct MmuReply(ReplyKind Kind, bool Writable, bool FlushView = false);

/// <summary>One service step: finished with a reply at <see cref="Time"/>, or more steps due at <see cref="Time"/>.</summary>
public readonly record struct MmuStep(bool Finished, long Time, MmuReply Reply);
