using System.Runtime.CompilerServices;
using Farm.Simulation.X86.Internal;
using Iced.Intel;

namespace Farm.Simulation.X86;

/// <summary>
/// Executes decoded guest code for the integer subset kernel routines use. Every memory
/// write passes through <see cref="TryWrite"/>, which asks the <see cref="IWriteGate"/>; a
/// refused write stops the instruction before it retires and returns a <see cref="WriteFault"/>.
/// In emulation mode (KVM's emulator) the gate is bypassed and each write is reported to a sink.
/// </summary>
public sealed class Interpreter
{
    /// <summary>Return address pushed by <see cref="Call"/>; reaching it ends the routine.</summary>
    public ulong ReturnSentinel { get; }

    internal readonly ulong[] R;
    internal readonly GuestMemory Memory;
    private readonly DecodedCodeCache _code;
    private readonly bool _is64;

    private IWriteGate? _gate;
    private IEmulatedWriteSink? _sink;
    private bool _emulating;
    private long _elementLimit;
    private WriteFault _fault;

    public Interpreter(GuestCpu cpu, GuestMemory memory, IWriteGate? gate = null, DecodedCodeCache? code = null)
    {
        Cpu = cpu;
        Memory = memory;
        _gate = gate;
        _code = code ?? new DecodedCodeCache(memory, cpu.Bitness);
        if (_code.Bitness != cpu.Bitness) throw new ArgumentException("code cache and CPU disagree on the guest mode", nameof(code));
        R = cpu.Gpr;
        _is64 = cpu.Bitness == 64;
        ReturnSentinel = _is64 ? 0xffff_ffff_ffff_f000UL : 0xffff_f000UL;
    }

    public GuestCpu Cpu { get; }
    public DecodedCodeCache Code => _code;
    public IWriteGate? Gate { get => _gate; set => _gate = value; }
    public bool Is64 => _is64;

    /// <summary>Instructions retired (a rep string instruction counts once per run of elements).</summary>
    public long Retired { get; private set; }

    /// <summary>Bytes written by string instructions (the guest's native cost of rep stos/movs).</summary>
    public long StringBytes { get; internal set; }

    /// <summary>
    /// Calls a routine: arguments in the System V registers (64-bit) or the Linux i386 kernel's
    /// regparm(3) registers EAX, EDX, ECX (32-bit); a sentinel return address on the stack.
    /// The caller sets RSP first.
    /// </summary>
    public ExecutionResult Call(ulong entry, ReadOnlySpan<ulong> args, long budget = 1_000_000)
    {
        ReadOnlySpan<int> regs = _is64 ? [7, 6, 2, 1, 8, 9] : [0, 2, 1];
        if (args.Length > regs.Length)
            throw new ArgumentException($"at most {regs.Length} register arguments in {Cpu.Bitness}-bit mode", nameof(args));
        for (int i = 0; i < args.Length; i++) R[regs[i]] = _is64 ? args[i] : (uint)args[i];
        int slot = _is64 ? 8 : 4;
        ulong sp = Mask(R[4] - (ulong)slot);
        Cpu.Rip = entry;
        if (!Memory.Contains(sp, (ulong)slot))
        {
            // The caller's RSP is not in guest memory: an error result like any bad access, not an exception.
            string message = $"cannot push the return address: stack pointer 0x{R[4]:x} is outside guest memory (0x0-0x{Memory.SizeBytes - 1:x}) in the call to 0x{entry:x}";
            return new ExecutionResult(ExecutionStatus.Error, 0, default, new GuestCodeError("bad-access", message, entry, "?", "?"));
        }
        Memory.Write(sp, slot, ReturnSentinel);
        R[4] = sp;
        return Run(budget);
    }

    /// <summary>Runs from RIP until the routine returns, a write is refused, or an error.</summary>
    public ExecutionResult Run(long budget = 1_000_000)
    {
        _emulating = false;
        // The hot loop keeps the count, the CPU and the sentinel in locals; Retired is brought
        // up to date on every way out (handlers do not read it).
        long retired = 0;
        var cpu = Cpu;
        ulong sentinel = ReturnSentinel;
        try
        {
            var code = _code;
            ulong rip;
            while ((rip = cpu.Rip) != sentinel)
            {
                if (retired >= budget)
                    GuestCodeException.Throw("budget", $"instruction budget of {budget} exhausted (runaway loop?)");
                ref DecodedSlot slot = ref code.Slot(rip);
                if (!slot.Handler!.Execute(this, in slot.Instruction))
                {
                    Retired += retired;
                    return new ExecutionResult(ExecutionStatus.WriteFault, retired, _fault, null);
                }
                retired++;
            }
            Retired += retired;
            return new ExecutionResult(ExecutionStatus.Completed, retired, default, null);
        }
        catch (Exception e) when (e is GuestCodeException or GuestMemoryAccessException)
        {
            Retired += retired;
            return new ExecutionResult(ExecutionStatus.Error, retired, default, DescribeError(e));
        }
    }

    /// <summary>
    /// Emulates the instruction at RIP as KVM's emulator would: writes bypass the gate and
    /// each is reported to <paramref name="sink"/>. A rep string instruction runs at most
    /// <paramref name="maxElements"/> elements; returns true when the instruction retired
    /// (RIP advanced), false when elements remain.
    /// </summary>
    public bool EmulateOne(IEmulatedWriteSink sink, long maxElements, out GuestCodeError? error)
    {
        _emulating = true;
        _sink = sink;
        _elementLimit = maxElements;
        ulong rip = Cpu.Rip;
        error = null;
        try
        {
            ref DecodedSlot slot = ref _code.Slot(rip);
            slot.Handler!.Execute(this, in slot.Instruction);
        }
        catch (Exception e) when (e is GuestCodeException or GuestMemoryAccessException)
        {
            EndEmulation();
            error = DescribeError(e);
            return false;
        }
        catch
        {
            EndEmulation(); // a sink that throws leaves the interpreter out of emulation mode
            throw;
        }
        EndEmulation();
        Retired++;
        return Cpu.Rip != rip;
    }

    /// <summary>Called by the sink during <see cref="EmulateOne"/>: a rep string stops after the
    /// element being written (it retires if that was its last one).</summary>
    public void PauseEmulation() => _elementLimit = 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EndEmulation()
    {
        _emulating = false;
        _sink = null;
        _elementLimit = long.MaxValue;
    }

    /// <summary>The decoded instruction at RIP (decoding it if needed), for KVM's decode step.</summary>
    public Instruction PeekInstruction() => _code.Get(Cpu.Rip);

    private GuestCodeError DescribeError(Exception e)
    {
        ulong rip = Cpu.Rip;
        string text = "?", bytes = "?";
        try
        {
            ref readonly Instruction ins = ref _code.Get(rip);
            text = Format(ins);
            bytes = InstructionBytes(rip, ins.Length);
        }
        catch (Exception inner) when (inner is GuestCodeException or GuestMemoryAccessException)
        {
            if (rip < Memory.SizeBytes) bytes = InstructionBytes(rip, (int)Math.Min(15UL, Memory.SizeBytes - rip));
        }
        string kind = e is GuestCodeException g ? g.Kind : "bad-access";
        string where = e is GuestCodeException { Kind: "invalid-encoding" or "bad-fetch" } ? "" : $" in '{text}' (bytes {bytes}) at 0x{rip:x}";
        return new GuestCodeError(kind, e.Message + where, rip, text, bytes);
    }

    private string InstructionBytes(ulong rip, int length)
    {
        Span<byte> buf = stackalloc byte[Math.Clamp(length, 1, 15)];
        Memory.ReadBytes(rip, buf);
        return DecodedCodeCache.Hex(buf);
    }

    internal static string Format(in Instruction ins)
    {
        var output = new StringOutput();
        new NasmFormatter().Format(ins, output);
        return output.ToStringAndReset();
    }

    // ---- operand access (hot) ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Mask(ulong address) => _is64 ? address : (uint)address;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadReg(Register reg)
    {
        var info = RegisterMap.Info[(int)reg];
        ulong v = R[info.Index];
        if (info.High8) return (v >> 8) & 0xff;
        return v & SizeMask(info.Size);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteReg(Register reg, ulong value)
    {
        var info = RegisterMap.Info[(int)reg];
        ref ulong r = ref R[info.Index];
        switch (info.Size)
        {
            case 8: r = value; break;
            case 4: r = (uint)value; break;
            case 2: r = (r & ~0xffffUL) | (value & 0xffff); break;
            default:
                if (info.High8) r = (r & ~0xff00UL) | ((value & 0xff) << 8);
                else r = (r & ~0xffUL) | (value & 0xff);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong SizeMask(int size) => size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;

    /// <summary>Effective address of the instruction's memory operand (flat segments).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong EffectiveAddress(in Instruction ins)
    {
        ulong ea = ins.MemoryDisplacement64;
        var b = ins.MemoryBase;
        bool addr32 = !_is64;
        if (b != Register.None)
        {
            if (b == Register.RIP) return ea;
            if (b == Register.EIP) return (uint)ea;
            var info = RegisterMap.Info[(int)b];
            ea += info.Size == 8 ? R[info.Index] : (uint)R[info.Index];
            addr32 |= info.Size == 4;
        }
        var x = ins.MemoryIndex;
        if (x != Register.None)
        {
            var info = RegisterMap.Info[(int)x];
            if (info.Size > 8) GuestCodeException.Throw("unsupported", "vector-indexed addressing is not supported");
            ea += (info.Size == 8 ? R[info.Index] : (uint)R[info.Index]) * (uint)ins.MemoryIndexScale;
            addr32 |= info.Size == 4;
        }
        return addr32 ? (uint)ea : ea;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadMem(ulong address, int size) => Memory.Read(address, size);

    /// <summary>Iced's GetOpKind, folded to a field read when <paramref name="op"/> is a constant 0 or 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static OpKind Kind(in Instruction ins, int op) =>
        op == 0 ? ins.Op0Kind : op == 1 ? ins.Op1Kind : ins.GetOpKind(op);

    /// <summary>Iced's GetOpRegister, folded like <see cref="Kind"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Register Reg(in Instruction ins, int op) =>
        op == 0 ? ins.Op0Register : op == 1 ? ins.Op1Register : ins.GetOpRegister(op);

    /// <summary>Operand size in bytes of operand <paramref name="op"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int OpSize(in Instruction ins, int op) => Kind(ins, op) switch
    {
        OpKind.Register => RegisterMap.Info[(int)Reg(ins, op)].Size,
        OpKind.Memory => ins.MemorySize.GetSize(),
        _ => GuestCodeException.ThrowInt("unsupported", $"operand {op} of this form is not supported"),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadOp(in Instruction ins, int op, int size)
    {
        switch (Kind(ins, op))
        {
            case OpKind.Register: return ReadReg(Reg(ins, op));
            case OpKind.Memory: return ReadMem(EffectiveAddress(ins), size);
            case OpKind.Immediate8:
            case OpKind.Immediate16:
            case OpKind.Immediate32:
            case OpKind.Immediate64:
            case OpKind.Immediate8to16:
            case OpKind.Immediate8to32:
            case OpKind.Immediate8to64:
            case OpKind.Immediate32to64:
                return ins.GetImmediate(op) & SizeMask(size);
            default:
                return GuestCodeException.ThrowULong("unsupported", $"operand kind {ins.GetOpKind(op)} is not supported");
        }
    }

    /// <summary>Writes operand <paramref name="op"/>; false when the gate refused a memory write.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool WriteOp(in Instruction ins, int op, int size, ulong value)
    {
        if (Kind(ins, op) == OpKind.Register)
        {
            WriteReg(Reg(ins, op), value);
            return true;
        }
        return TryWrite(EffectiveAddress(ins), size, value, in ins, 0);
    }

    /// <summary>
    /// The one path of every guest memory write. Outside emulation, asks the gate for each
    /// frame the write touches; a refusal records the fault and returns false.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryWrite(ulong address, int size, ulong value, in Instruction ins, long elementIndex)
    {
        if (!Memory.Contains(address, (ulong)size))
            GuestMemoryAccessException.Throw(address, (ulong)size, Memory.SizeBytes);
        if (_emulating)
        {
            Memory.Write(address, size, value);
            _sink!.OnEmulatedWrite(address, size, value);
            return true;
        }
        if (_gate is not null && !GateAllows(address, size))
        {
            _fault = new WriteFault(address, size, value & SizeMask(size), Cpu.Rip, ins, elementIndex);
            return false;
        }
        Memory.Write(address, size, value);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool GateAllows(ulong address, int size)
    {
        ulong first = address >> GuestMemory.PageShift;
        ulong last = (address + (ulong)size - 1) >> GuestMemory.PageShift;
        return _gate!.CanWrite(first) && (last == first || _gate.CanWrite(last));
    }

    /// <summary>Bulk-writable span for a rep string run: whole elements in one frame that the
    /// gate lets us write natively. Empty when emulating or when the frame is protected.</summary>
    internal bool CanBulkWrite(ulong address, ulong bytes) =>
        !_emulating && Memory.Contains(address, bytes) && (_gate is null || _gate.CanWrite(address >> GuestMemory.PageShift));

    internal bool Emulating => _emulating;
    internal long ElementLimit => _emulating ? _elementLimit : long.MaxValue;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Push(ulong value, int size, in Instruction ins, out bool ok)
    {
        ulong sp = Mask(R[4] - (ulong)size);
        ok = TryWrite(sp, size, value, in ins, 0);
        if (ok) R[4] = sp;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Pop(int size)
    {
        ulong v = ReadMem(R[4], size);
        R[4] = Mask(R[4] + (ulong)size);
        return v;
    }

    internal int StackSlot => _is64 ? 8 : 4;
}
