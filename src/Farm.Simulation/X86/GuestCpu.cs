namespace Farm.Simulation.X86;

/// <summary>Architectural state of one simulated vCPU: the integer registers, RIP and RFLAGS.</summary>
public sealed class GuestCpu
{
    public GuestCpu(int bitness)
    {
        if (bitness is not (32 or 64))
            throw new ArgumentOutOfRangeException(nameof(bitness), bitness, "guest mode must be 32 or 64");
        Bitness = bitness;
    }

    public int Bitness { get; }

    /// <summary>RAX..R15 in encoding order (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15).</summary>
    public ulong[] Gpr { get; } = new ulong[16];

    public ulong Rip { get; set; }
    public ulong Rflags { get; set; } = Flags.Reserved;

    public ulong Rax { get => Gpr[0]; set => Gpr[0] = value; }
    public ulong Rcx { get => Gpr[1]; set => Gpr[1] = value; }
    public ulong Rdx { get => Gpr[2]; set => Gpr[2] = value; }
    public ulong Rbx { get => Gpr[3]; set => Gpr[3] = value; }
    public ulong Rsp { get => Gpr[4]; set => Gpr[4] = value; }
    public ulong Rbp { get => Gpr[5]; set => Gpr[5] = value; }
    public ulong Rsi { get => Gpr[6]; set => Gpr[6] = value; }
    public ulong Rdi { get => Gpr[7]; set => Gpr[7] = value; }

    public void CopyFrom(GuestCpu other)
    {
        other.Gpr.CopyTo(Gpr, 0);
        Rip = other.Rip;
        Rflags = other.Rflags;
    }
}

/// <summary>RFLAGS bits the interpreter maintains.</summary>
public static class Flags
{
    public const ulong CF = 1 << 0;
    public const ulong Reserved = 1 << 1;
    public const ulong PF = 1 << 2;
    public const ulong AF = 1 << 4;
    public const ulong ZF = 1 << 6;
    public const ulong SF = 1 << 7;
    public const ulong DF = 1 << 10;
    public const ulong OF = 1 << 11;
    public const ulong Arith = CF | PF | AF | ZF | SF | OF;
}
