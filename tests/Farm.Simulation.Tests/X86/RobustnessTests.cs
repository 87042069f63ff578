using Farm.Simulation.X86;
using Iced.Intel;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;
using static Iced.Intel.AssemblerRegisters;

namespace Farm.Simulation.Tests.X86;

/// <summary>
/// Random machine code must never take the interpreter down: every run ends Completed,
/// WriteFault or Error (with a message), in both modes and under emulation, and the gate's
/// protection and the emulator's write reporting hold whatever the code does.
/// </summary>
[Trait("Category", "Slow")] // docs/testing.md: left out of the quick subset
public sealed class RobustnessTests(ITestOutputHelper output)
{
    private const int Partitions = 8;
    private const int CasesPerPartition = 100_000 / Partitions; // 100,000 sequences in all (InlineData 0..7)
    private const ulong MemorySize = 64 * 1024;
    private const ulong CodeAt = 0x1000;
    private const ulong DataAt = 0x4000;
    private const long Budget = 64;

    /// <summary>Opcode starts that lead into the supported subset (and its edges), so random
    /// tails get decoded as something the interpreter actually executes.</summary>
    private static readonly byte[][] Openers =
    [
        [0x48], [0x49], [0x4c], [0x4d], [0x41], [0x66], [0x67], [0xf0], [0xf3], [0xf2], [0x65],
        [0xf3, 0x48, 0xab], [0xf3, 0xaa], [0xf3, 0xab], [0xf3, 0x48, 0xa5], [0xf3, 0xa4], [0xf3, 0xa5], [0xfd], [0xac], [0xf3, 0xad],
        [0xf0, 0x80], [0xf0, 0x48, 0x0f, 0xb1], [0xf0, 0x0f, 0xc7], [0xf0, 0x48, 0x87], [0xf0, 0x48, 0x0f, 0xc1],
        [0x0f, 0xa3], [0x0f, 0xab], [0x0f, 0xb3], [0x0f, 0xbb], [0x0f, 0xba], [0x48, 0x0f, 0xab], [0x48, 0x0f, 0xba],
        [0x0f, 0xaf], [0x0f, 0xb6], [0x0f, 0xb7], [0x0f, 0xbe], [0x0f, 0xbf], [0x48, 0x63], [0x0f, 0xbc], [0x0f, 0xbd],
        [0xf3, 0x0f, 0xbc], [0xf3, 0x0f, 0xbd], [0xf3, 0x0f, 0xb8], [0x0f, 0xc8], [0x48, 0x0f, 0xc8],
        [0x0f, 0x44], [0x0f, 0x4f], [0x0f, 0x94], [0x0f, 0x9c], [0x0f, 0x84], [0x0f, 0x8e],
        [0xf7], [0x48, 0xf7], [0xf6], [0xd3], [0x48, 0xd3], [0xc1], [0xd1], [0xd0], [0xc0], [0xff], [0x8f],
        [0xe2], [0xe3], [0x67, 0xe3], [0xe0], [0xe1], [0x74], [0x75], [0x72], [0x7c], [0xeb], [0xe8], [0xe9], [0xc3], [0xc2], [0xc9],
        [0x87], [0x86], [0x89], [0x8b], [0x88], [0x8a], [0xc7], [0xc6], [0x80], [0x81], [0x83], [0x69], [0x6b], [0x8d],
        [0x01], [0x03], [0x09], [0x11], [0x19], [0x21], [0x29], [0x31], [0x39], [0x85], [0x84], [0xa8], [0x3c],
        [0x98], [0x99], [0x48, 0x98], [0x48, 0x99], [0x50], [0x58], [0x6a], [0x68], [0x90], [0x0f, 0x1f], [0x0f, 0x18],
        [0xa3], [0xa1], [0x48, 0xa3], [0x8c], [0x8e], [0x0f, 0x20], [0x0f, 0x22], [0x0f, 0xa2], [0xcc], [0xf4],
    ];

    private sealed record Scenario(int Kind, byte[] Code, ulong[] Gpr, ulong Rflags, ulong[] Protected, byte[] Data);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void Random_code_ends_in_a_result_never_an_exception(int partition)
    {
        var rng = new Random(0x5eed_0000 + partition);
        var stats = new Stats();
        var rig = new Rig();
        for (int i = 0; i < CasesPerPartition; i++)
        {
            var s = NewScenario(rng);
            int maxElements = rng.Next(1, 5);
            Check(rig, s, 64, maxElements, stats, $"partition {partition} case {i}");
            if (i % 4 == 0) Check(rig, s, 32, maxElements, stats, $"partition {partition} case {i} (32-bit)");
        }
        output.WriteLine(stats.ToString());
        // The fuzz must reach past the first instruction and exercise every outcome.
        Assert.True(stats.Runs >= CasesPerPartition);
        Assert.True(stats.Completed > stats.Runs / 100, stats.ToString());
        Assert.True(stats.Faults > stats.Runs / 100, stats.ToString());
        Assert.True(stats.Errors > stats.Runs / 10, stats.ToString());
        Assert.True(stats.Instructions > 2L * stats.Runs, stats.ToString());
        Assert.True(stats.EmulatedWrites > 0, stats.ToString());
    }

    private sealed class Stats
    {
        public int Runs, Completed, Faults, Errors, EmulatedWrites, EmulateErrors;
        public long Instructions;
        public readonly Dictionary<string, int> Kinds = [];
        public readonly long[] RunsByKind = new long[4], InstructionsByKind = new long[4];

        public override string ToString() =>
            $"runs {Runs}: completed {Completed}, faults {Faults}, errors {Errors} " +
            $"({string.Join(", ", Kinds.OrderByDescending(k => k.Value).Select(k => $"{k.Key} {k.Value}"))}); " +
            $"instructions {Instructions} (per run by generator: {string.Join(", ", Enumerable.Range(0, 4).Select(k => $"{InstructionsByKind[k] / (double)Math.Max(1, RunsByKind[k]):0.0}"))}); " +
            $"emulated writes {EmulatedWrites}, emulation errors {EmulateErrors}";
    }

    private static Scenario NewScenario(Random rng)
    {
        var code = new List<byte>();
        int kind = rng.Next(4);
        if (kind == 0)
        {
            // Pure noise.
            code.AddRange(RandomBytes(rng, rng.Next(16, 33)));
        }
        else if (kind == 1)
        {
            // One common opener, then noise.
            code.AddRange(Openers[rng.Next(Openers.Length)]);
            code.AddRange(RandomBytes(rng, rng.Next(16, 33)));
        }
        else if (kind == 2)
        {
            // A chain of opener + short tail fragments: mostly decodable, mostly supported.
            int fragments = rng.Next(3, 9);
            for (int f = 0; f < fragments; f++)
            {
                code.AddRange(Openers[rng.Next(Openers.Length)]);
                code.AddRange(RandomBytes(rng, rng.Next(1, 6)));
            }
        }
        else
        {
            // Valid code from the supported subset with random operands: reaches deep.
            code.AddRange(Assembled(rng));
        }
        code.Add(0xc3);

        var gpr = new ulong[16];
        for (int r = 0; r < 16; r++)
        {
            // Assembled code addresses memory through any register: keep them in memory more often.
            gpr[r] = rng.Next(kind == 3 ? 40 : 20) switch
            {
                < 13 => (ulong)rng.Next(0, (int)MemorySize),            // points into memory
                < 16 => (ulong)rng.Next(0, 70),                          // small counts and bit offsets
                < 18 => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63), // anything
                < 20 => MemorySize - (ulong)rng.Next(1, 16),            // at the very end of memory
                _ => (ulong)rng.Next(0x100, (int)MemorySize - 0x100),   // well inside memory
            };
        }
        gpr[4] = 0x8000 + (ulong)rng.Next(0, 0x100) * 8; // stack inside memory
        ulong flags = Flags.Reserved | ((ulong)rng.Next() & Flags.Arith);
        if (rng.Next(10) == 0) flags |= Flags.DF;

        // Protect a few frames (never the stack frame: Call writes the sentinel there without the gate).
        var protectedFrames = new List<ulong>();
        int count = rng.Next(0, 4);
        for (int p = 0; p < count; p++)
        {
            ulong gfn = (ulong)rng.Next(0, (int)(MemorySize >> GuestMemory.PageShift));
            if (gfn != (gpr[4] - 8) >> GuestMemory.PageShift) protectedFrames.Add(gfn);
        }
        return new Scenario(kind, [.. code], gpr, flags, [.. protectedFrames], RandomBytes(rng, 256));
    }

    private static readonly AssemblerRegister64[] Regs64 = [rax, rcx, rdx, rbx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];
    private static readonly AssemblerRegister32[] Regs32 = [eax, ecx, edx, ebx, ebp, esi, edi, r8d, r9d, r10d, r11d, r12d, r13d, r14d, r15d];
    private static readonly AssemblerRegister8[] Regs8 = [al, cl, dl, bl, sil, dil, r8b, r9b];

    private static byte[] Assembled(Random rng)
    {
        var a = new Assembler(64);
        int count = rng.Next(6, 17);
        for (int i = 0; i < count; i++) Emit(a, rng, depth: 0);
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), CodeAt);
        return stream.ToArray();
    }

    private static void Emit(Assembler a, Random r, int depth)
    {
        var x = Regs64[r.Next(Regs64.Length)];
        var y = Regs64[r.Next(Regs64.Length)];
        var x32 = Regs32[r.Next(Regs32.Length)];
        var y32 = Regs32[r.Next(Regs32.Length)];
        var b8 = Regs8[r.Next(Regs8.Length)];
        var ea = Regs64[r.Next(Regs64.Length)] + r.Next(-64, 64);
        int imm = r.Next(4) == 0 ? r.Next() : r.Next(-200, 200);
        switch (r.Next(depth == 0 ? 24 : 20))
        {
            case 0:
                switch (r.Next(9))
                {
                    case 0: a.add(x, y); break;
                    case 1: a.sub(x32, y32); break;
                    case 2: a.and(x, y); break;
                    case 3: a.or(x32, y32); break;
                    case 4: a.xor(x, y); break;
                    case 5: a.adc(x, y); break;
                    case 6: a.sbb(x32, y32); break;
                    case 7: a.cmp(x, y); break;
                    default: a.test(b8, b8); break;
                }
                break;
            case 1:
                switch (r.Next(6))
                {
                    case 0: a.add(__qword_ptr[ea], x); break;
                    case 1: a.or(__dword_ptr[ea], x32); break;
                    case 2: a.@lock.and(__byte_ptr[ea], (byte)imm); break;
                    case 3: a.@lock.or(__qword_ptr[ea], imm); break;
                    case 4: a.sub(x, __qword_ptr[ea]); break;
                    default: a.xor(__byte_ptr[ea], b8); break;
                }
                break;
            case 2: a.mov(x, r.Next(3) == 0 ? (long)r.Next(0, (int)MemorySize) : r.NextInt64()); break;
            case 3: a.mov(__qword_ptr[ea], x); break;
            case 4: a.mov(x32, __dword_ptr[ea]); break;
            case 5: a.mov(__dword_ptr[ea], imm); break;
            case 6:
                switch (r.Next(6))
                {
                    case 0: a.shl(x, (byte)r.Next(0, 70)); break;
                    case 1: a.shr(x32, cl); break;
                    case 2: a.sar(x, cl); break;
                    case 3: a.rol(b8, (byte)r.Next(0, 20)); break;
                    case 4: a.ror(__qword_ptr[ea], 1); break;
                    default: a.shl(__word_ptr[ea], cl); break;
                }
                break;
            case 7:
                switch (r.Next(6))
                {
                    case 0: a.imul(x, y); break;
                    case 1: a.imul(x32, y32, imm); break;
                    case 2: a.mul(y); break;
                    case 3: a.imul(__qword_ptr[ea]); break;
                    case 4: a.div(x32); break;
                    default: a.idiv(y); break;
                }
                break;
            case 8:
                switch (r.Next(5))
                {
                    case 0: a.inc(x); break;
                    case 1: a.dec(__dword_ptr[ea]); break;
                    case 2: a.neg(x32); break;
                    case 3: a.not(__qword_ptr[ea]); break;
                    default: a.neg(b8); break;
                }
                break;
            case 9:
                switch (r.Next(6))
                {
                    case 0: a.bt(__qword_ptr[ea], x); break;
                    case 1: a.@lock.bts(__qword_ptr[ea], x); break;
                    case 2: a.btr(__dword_ptr[ea], x32); break;
                    case 3: a.btc(__qword_ptr[ea], (byte)r.Next(0, 255)); break;
                    case 4: a.bts(x, (byte)r.Next(0, 255)); break;
                    default: a.btr(x, y); break;
                }
                break;
            case 10:
                switch (r.Next(5))
                {
                    case 0: a.xchg(__qword_ptr[ea], x); break;
                    case 1: a.@lock.cmpxchg(__qword_ptr[ea], x); break;
                    case 2: a.@lock.xadd(__dword_ptr[ea], x32); break;
                    case 3: a.@lock.cmpxchg8b(__qword_ptr[ea]); break;
                    default: a.xchg(x, y); break;
                }
                break;
            case 11:
                switch (r.Next(4))
                {
                    case 0: a.push(x); break;
                    case 1: a.pop(y); break;
                    case 2: a.push(__qword_ptr[ea]); break;
                    default: a.push(imm); break;
                }
                break;
            case 12:
                a.mov(ecx, r.Next(0, 300));
                switch (r.Next(4))
                {
                    case 0: a.rep.stosb(); break;
                    case 1: a.rep.stosq(); break;
                    case 2: a.rep.movsb(); break;
                    default: a.rep.movsq(); break;
                }
                break;
            case 13:
                switch (r.Next(5))
                {
                    case 0: a.movzx(x32, b8); break;
                    case 1: a.movsx(x, __word_ptr[ea]); break;
                    case 2: a.movsxd(x, y32); break;
                    case 3: a.lea(x, ea); break;
                    default: a.cmovne(x, __qword_ptr[ea]); break;
                }
                break;
            case 14:
                switch (r.Next(3))
                {
                    case 0: a.setb(b8); break;
                    case 1: a.setg(__byte_ptr[ea]); break;
                    default: a.cmovle(x32, y32); break;
                }
                break;
            case 15:
                switch (r.Next(7))
                {
                    case 0: a.bsf(x, y); break;
                    case 1: a.bsr(x32, __dword_ptr[ea]); break;
                    case 2: a.popcnt(x, y); break;
                    case 3: a.tzcnt(x, y); break;
                    case 4: a.lzcnt(x32, y32); break;
                    case 5: a.bswap(x); break;
                    default: a.cqo(); break;
                }
                break;
            case 16: a.mov(x, y); break;
            case 17: a.cmp(__qword_ptr[ea], imm); break;
            case 18: a.stosb(); break;
            case 19: a.lodsq(); break;
            case 20:
            {
                // Conditional branch over the next instruction.
                var over = a.CreateLabel();
                if (r.Next(2) == 0) a.jne(over); else a.jl(over);
                Emit(a, r, depth + 1);
                a.Label(ref over);
                a.nop();
                break;
            }
            case 21:
            {
                // A short counted loop.
                var top = a.CreateLabel();
                a.mov(ecx, r.Next(0, 6));
                a.Label(ref top);
                Emit(a, r, depth + 1);
                a.loop(top);
                break;
            }
            case 22:
            {
                // Call a little function.
                var f = a.CreateLabel();
                var over = a.CreateLabel();
                a.call(f);
                a.jmp(over);
                a.Label(ref f);
                Emit(a, r, depth + 1);
                a.ret();
                a.Label(ref over);
                a.nop();
                break;
            }
            default:
            {
                // Indirect jump through a register to the next instruction, the way a jump table goes.
                var next = a.CreateLabel();
                a.lea(rax, __[next]);
                a.jmp(rax);
                a.Label(ref next);
                a.nop();
                break;
            }
        }
    }

    private static byte[] RandomBytes(Random rng, int n)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        return b;
    }

    /// <summary>One guest memory and code cache per mode, reset for every case (a fresh code
    /// cache per case would allocate a 160 KiB slot table per page it decodes).</summary>
    private sealed class Rig
    {
        public readonly GuestMemory Memory = new(MemorySize);
        public readonly DecodedCodeCache Code32, Code64;
        public readonly byte[] Before = new byte[MemorySize], After = new byte[MemorySize];

        public Rig()
        {
            Code32 = new DecodedCodeCache(Memory, 32);
            Code64 = new DecodedCodeCache(Memory, 64);
        }

        public Interpreter Setup(Scenario s, int bitness)
        {
            var code = bitness == 64 ? Code64 : Code32;
            for (ulong gfn = 0; gfn < Memory.FrameCount; gfn++)
            {
                Memory.Frame(gfn).Clear();
                code.Invalidate(gfn);
            }
            Memory.WriteBytes(CodeAt, s.Code);
            Memory.WriteBytes(DataAt, s.Data);
            var cpu = new GuestCpu(bitness);
            for (int r = 0; r < 16; r++) cpu.Gpr[r] = bitness == 64 ? s.Gpr[r] : (uint)s.Gpr[r];
            cpu.Rflags = s.Rflags;
            return new Interpreter(cpu, Memory, new FrameGate(s.Protected), code);
        }
    }

    private static void Check(Rig rig, Scenario s, int bitness, int maxElements, Stats stats, string what)
    {
        string Context() => $"{what}: code {DecodedCodeCache.Hex(s.Code)}";

        // 1. Run under the gate.
        var it = rig.Setup(s, bitness);
        var cpu = it.Cpu;
        var memory = rig.Memory;
        var before = Snapshot(memory, s.Protected);
        ExecutionResult result;
        try
        {
            result = it.Call(CodeAt, [], Budget);
        }
        catch (Exception e)
        {
            throw new XunitException($"{Context()}: Run threw {e}");
        }
        stats.Runs++;
        stats.Instructions += result.Instructions;
        if (s.Kind >= 0)
        {
            stats.RunsByKind[s.Kind]++;
            stats.InstructionsByKind[s.Kind] += result.Instructions;
        }
        Require(result.Instructions <= Budget, () => $"{Context()}: {result.Instructions} instructions on a budget of {Budget}");
        switch (result.Status)
        {
            case ExecutionStatus.Completed:
                stats.Completed++;
                Require(cpu.Rip == it.ReturnSentinel, () => $"{Context()}: completed at 0x{cpu.Rip:x}");
                break;
            case ExecutionStatus.WriteFault:
                stats.Faults++;
                var f = result.Fault;
                Require(f.Size is 1 or 2 or 4 or 8, () => $"{Context()}: fault size {f.Size}");
                Require(f.Rip == cpu.Rip && f.Instruction.IP == cpu.Rip, () => $"{Context()}: fault RIP 0x{f.Rip:x}, CPU at 0x{cpu.Rip:x}");
                ulong last = (f.Address + (ulong)f.Size - 1) >> GuestMemory.PageShift;
                Require(s.Protected.Contains(f.Gfn) || s.Protected.Contains(last), () => $"{Context()}: fault on writable frame 0x{f.Gfn:x}");
                Require(f.ElementIndex >= 0, Context);
                _ = f.Class; // classifying any faulting instruction must not throw
                break;
            case ExecutionStatus.Error:
                stats.Errors++;
                CheckError(result.Error, cpu.Rip, Context);
                stats.Kinds[result.Error!.Kind] = stats.Kinds.GetValueOrDefault(result.Error.Kind) + 1;
                break;
            default:
                throw new XunitException($"{Context()}: status {result.Status}");
        }
        // Nothing got past the gate.
        var after = Snapshot(memory, s.Protected);
        for (int i = 0; i < before.Length; i++)
            Require(before[i].AsSpan().SequenceEqual(after[i]), () => $"{Context()}: protected frame 0x{s.Protected[i]:x} was written");

        // 2. KVM's path after a fault: emulate the faulting instruction.
        if (result.Status == ExecutionStatus.WriteFault)
            Emulate(rig, it, maxElements, stats, Context);

        // 3. The emulator on the first instruction, from the initial state.
        it = rig.Setup(s, bitness);
        it.Cpu.Rip = CodeAt;
        Emulate(rig, it, maxElements, stats, Context);
    }

    private static void Emulate(Rig rig, Interpreter it, int maxElements, Stats stats, Func<string> context)
    {
        var memory = rig.Memory;
        var whole = rig.Before;
        memory.ReadBytes(0, whole);
        var sink = new RecordingSink();
        ulong rip = it.Cpu.Rip;
        GuestCodeError? error;
        try
        {
            it.EmulateOne(sink, maxElements, out error);
        }
        catch (Exception e)
        {
            throw new XunitException($"{context()}: EmulateOne at 0x{rip:x} threw {e}");
        }
        if (error is not null)
        {
            stats.EmulateErrors++;
            CheckError(error, it.Cpu.Rip, context);
        }
        stats.EmulatedWrites += sink.Writes.Count;
        Require(sink.Writes.Count <= maxElements + 1, () => $"{context()}: {sink.Writes.Count} writes for at most {maxElements} elements");
        foreach (var w in sink.Writes)
            Require(w.Size is 1 or 2 or 4 or 8, () => $"{context()}: emulated write of size {w.Size}");

        // Every byte the emulator changed was reported to the sink.
        var now = rig.After;
        memory.ReadBytes(0, now);
        for (int i = 0; ; i++)
        {
            i += now.AsSpan(i).CommonPrefixLength(whole.AsSpan(i)); // skip to the next changed byte
            if (i >= now.Length) break;
            ulong a = (ulong)i;
            Require(sink.Writes.Any(w => a >= w.Address && a < w.Address + (ulong)w.Size),
                () => $"{context()}: emulation changed 0x{a:x} without reporting it");
        }
    }

    private static void CheckError(GuestCodeError? error, ulong rip, Func<string> context)
    {
        if (error is null) throw new XunitException($"{context()}: Error status without an error");
        Require(!string.IsNullOrWhiteSpace(error.Message) && !string.IsNullOrWhiteSpace(error.Kind), () => $"{context()}: empty error '{error.Kind}': '{error.Message}'");
        Require(error.Rip == rip, () => $"{context()}: error at 0x{error.Rip:x}, CPU at 0x{rip:x}");
        if (error.Kind is "bad-fetch") return;
        // Everything else names the address; all but undecodable ones also the instruction's bytes.
        Require(error.Message.Contains($"0x{rip:x}", StringComparison.Ordinal), () => $"{context()}: '{error.Message}' does not name 0x{rip:x}");
        // (An undecodable instruction names the bytes the decoder consumed; Bytes holds all 15 fetched.)
        string named = error.Kind == "invalid-encoding" ? error.Bytes[..2] : error.Bytes;
        Require(error.Message.Contains($"(bytes {named}", StringComparison.Ordinal), () => $"{context()}: '{error.Message}' does not name its bytes '{error.Bytes}'");
    }

    private static void Require(bool ok, Func<string> message)
    {
        if (!ok) throw new XunitException(message());
    }

    private static byte[][] Snapshot(GuestMemory memory, ulong[] frames) =>
        [.. frames.Select(gfn =>
        {
            var b = new byte[GuestMemory.PageSize];
            memory.ReadBytes(gfn << GuestMemory.PageShift, b);
            return b;
        })];

    [Fact]
    public void Known_edge_encodings_end_in_a_result()
    {
        // Each of these once could have escaped as a .NET exception or misbehaved.
        string[] cases =
        [
            "48 99 48 f7 f9",                   // cqo; idiv rcx with rax = min, rcx = -1 set below
            "ff 2f", "66 ff 2f", "48 ff 2f",     // jmp far [rdi]: 6-, 4- and 10-byte far pointers
            "ff 1f", "48 ff 1f",                 // call far [rdi]
            "0f 22 d8",                          // mov cr3, rax
            "0f 20 d8",                          // mov rax, cr3
            "8e d8",                             // mov ds, eax
            "48 0f c7 0f",                       // cmpxchg16b [rdi]
            "e3 00", "67 e3 00", "e2 fe",        // jrcxz, jecxz, loop to self
            "66 e2 fe",                          // loop with 16-bit operand size
            "67 e2 fe",                          // loop with ecx
            "f3 67 aa",                          // rep stosb with 32-bit addresses
            "0f 0d 0f",                          // prefetchw [rdi]
            "0f 18 07",                          // prefetchnta [rdi]
            "c2 08 00",                          // ret 8
            "0f ff 07",                          // ud0
        ];
        var rig = new Rig();
        foreach (var hex in cases)
        {
            foreach (int bitness in new[] { 64, 32 })
            {
                // Operands at the start of a frame and ending just short of the next one (odd sizes).
                foreach (ulong at in new ulong[] { DataAt, DataAt + 0xff9, DataAt + 0xffa, DataAt + 0xffc, MemorySize - 6 })
                {
                    var bytes = Farm.Simulation.GuestCode.GuestRoutine.FromHex("edge", bitness, hex).Bytes;
                    var gpr = new ulong[16];
                    Array.Fill(gpr, at);
                    gpr[0] = 0x8000_0000_0000_0000; gpr[1] = ulong.MaxValue; gpr[4] = 0x8000;
                    var s = new Scenario(-1, [.. bytes, 0xc3], gpr, Flags.Reserved, [], new byte[256]);
                    Check(rig, s, bitness, 1, new Stats(), $"edge '{hex}' {bitness}-bit, operands at 0x{at:x}");
                }
            }
        }
    }
}
