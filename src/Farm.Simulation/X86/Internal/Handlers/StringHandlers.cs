using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Iced.Intel;

namespace Farm.Simulation.X86.Internal.Handlers;

/// <summary>
/// stos and movs, with and without rep. On pages the gate lets us write, a rep run is done
/// in bulk, a frame at a time (GuestMemory.Fill / Copy); element by element only where a frame is
/// protected, where an element straddles frames, when DF=1, or under emulation, whose
/// callers ask for a bounded number of elements (KVM emulates rep one element at a time).
/// </summary>
internal sealed class StringHandler(bool isMovs) : OpHandler
{
    public static readonly StringHandler Stos = new(false);
    public static readonly StringHandler Movs = new(true);

    public bool IsMovs => isMovs;

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        var kind = ins.Op0Kind;
        if (kind == OpKind.MemoryESDI) GuestCodeException.Throw("unsupported", "16-bit addressing is not supported");
        ulong amask = kind == OpKind.MemoryESRDI ? ulong.MaxValue : 0xffff_ffffUL;
        return Run(isMovs, it, ins, ins.MemorySize.GetSize(), amask, ins.HasRepPrefix || ins.HasRepnePrefix);
    }

    /// <summary>The instruction with its element size, address mask and rep-ness already known
    /// (<see cref="StringForm"/> fixes them at decode time).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Run(bool isMovs, Interpreter it, in Instruction ins, int size, ulong amask, bool rep)
    {
        var r = it.R;
        ulong value = r[0] & Interpreter.SizeMask(size);
        if (it.Emulating) return Emulated(isMovs, it, ins, size, amask, rep, value);
        bool down = (it.Cpu.Rflags & Flags.DF) != 0;
        ulong step = down ? (ulong)(-size) : (ulong)size;

        if (!rep)
        {
            if (!Element(isMovs, it, ins, size, amask, value, 0)) return false;
            Advance(isMovs, r, step, amask);
            return Next(it, ins);
        }

        ulong count = r[1] & amask;
        long done = 0;
        while (count != 0)
        {
            if (!down)
            {
                ulong n = BulkRun(isMovs, it, size, count, amask);
                if (n != 0)
                {
                    if (isMovs)
                        it.Memory.Copy(r[6] & amask, r[7] & amask, (int)(n * (ulong)size));
                    else
                        it.Memory.Fill(r[7] & amask, (int)(n * (ulong)size), size, value);
                    r[7] = (r[7] + n * (ulong)size) & amask;
                    if (isMovs) r[6] = (r[6] + n * (ulong)size) & amask;
                    count -= n;
                    r[1] = count;
                    done += (long)n;
                    it.StringBytes += (long)n * size;
                    continue;
                }
            }
            if (!Element(isMovs, it, ins, size, amask, value, done)) return false;
            it.StringBytes += size;
            Advance(isMovs, r, step, amask);
            count--;
            r[1] = count;
            done++;
        }
        return Next(it, ins);
    }

    /// <summary>Under KVM's emulator: element by element, at most <see cref="Interpreter.ElementLimit"/>
    /// of a rep run, which the sink may lower to stop after the current element (each write goes
    /// to the sink; emulation writes are never refused).</summary>
    private static bool Emulated(bool isMovs, Interpreter it, in Instruction ins, int size, ulong amask, bool rep, ulong value)
    {
        var r = it.R;
        ulong step = (it.Cpu.Rflags & Flags.DF) != 0 ? (ulong)(-size) : (ulong)size;
        if (!rep)
        {
            Element(isMovs, it, ins, size, amask, value, 0);
            Advance(isMovs, r, step, amask);
            return Next(it, ins);
        }
        ulong count = r[1] & amask;
        long done = 0;
        while (count != 0)
        {
            // Read each time: the sink may pause emulation during an element (Interpreter.PauseEmulation).
            if (done >= it.ElementLimit) return true; // emulation pauses mid-instruction; RIP stays
            Element(isMovs, it, ins, size, amask, value, done);
            it.StringBytes += size;
            Advance(isMovs, r, step, amask);
            count--;
            r[1] = count;
            done++;
        }
        return Next(it, ins);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Element(bool isMovs, Interpreter it, in Instruction ins, int size, ulong amask, ulong value, long index)
    {
        if (isMovs) value = it.ReadMem(it.R[6] & amask, size);
        return it.TryWrite(it.R[7] & amask, size, value, ins, index);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Advance(bool isMovs, ulong[] r, ulong step, ulong amask)
    {
        r[7] = (r[7] + step) & amask;
        if (isMovs) r[6] = (r[6] + step) & amask;
    }

    /// <summary>Whole elements that can be done natively in one go: within one destination
    /// frame (and one source frame), writable, without forward overlap hazards.</summary>
    private static ulong BulkRun(bool isMovs, Interpreter it, int size, ulong count, ulong amask)
    {
        ulong dst = it.R[7] & amask;
        ulong n = Math.Min(count, (GuestMemory.PageSize - (dst & GuestMemory.PageMask)) / (ulong)size);
        if (amask != ulong.MaxValue) n = Math.Min(n, (amask - dst + 1) / (ulong)size);
        if (isMovs)
        {
            ulong src = it.R[6] & amask;
            n = Math.Min(n, (GuestMemory.PageSize - (src & GuestMemory.PageMask)) / (ulong)size);
            if (amask != ulong.MaxValue) n = Math.Min(n, (amask - src + 1) / (ulong)size);
            // Element-wise forward copy with dst ahead of src repeats the pattern; memmove would not.
            if (dst > src && dst - src < n * (ulong)size) n = (dst - src) / (ulong)size;
            if (n != 0 && !it.Memory.Contains(src, n * (ulong)size)) return 0;
        }
        if (n == 0 || !it.CanBulkWrite(dst, n * (ulong)size)) return 0;
        return n;
    }
}

/// <summary>stos or movs with its element size, address width and rep prefix fixed when it was
/// decoded (HandlerSelector), so an emulated element (KVM emulates rep one element per step)
/// does not look them up again.</summary>
internal sealed class StringForm(bool isMovs, int size, ulong amask, bool rep) : OpHandler
{
    public override bool Execute(Interpreter it, in Instruction ins) => StringHandler.Run(isMovs, it, ins, size, amask, rep);
}

/// <summary>lods (no memory write).</summary>
internal sealed class LodsHandler : OpHandler
{
    public static readonly LodsHandler Instance = new();

    public override bool Execute(Interpreter it, in Instruction ins)
    {
        ulong amask = ins.Op1Kind == OpKind.MemorySegRSI ? ulong.MaxValue : 0xffff_ffffUL;
        if (ins.Op1Kind == OpKind.MemorySegSI) GuestCodeException.Throw("unsupported", "16-bit addressing is not supported");
        int size = ins.MemorySize.GetSize();
        ulong step = (it.Cpu.Rflags & Flags.DF) != 0 ? (ulong)(-size) : (ulong)size;
        bool rep = ins.HasRepPrefix || ins.HasRepnePrefix;
        ulong count = rep ? it.R[1] & amask : 1;
        Register acc = size switch { 1 => Register.AL, 2 => Register.AX, 4 => Register.EAX, _ => Register.RAX };
        while (count != 0)
        {
            it.WriteReg(acc, it.ReadMem(it.R[6] & amask, size));
            it.R[6] = (it.R[6] + step) & amask;
            count--;
            if (rep) it.R[1] = count;
        }
        return Next(it, ins);
    }
}
