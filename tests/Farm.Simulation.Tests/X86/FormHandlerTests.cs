using Farm.Simulation.X86;
using Farm.Simulation.X86.Internal;
using Farm.Simulation.X86.Internal.Handlers;
using Iced.Intel;
using Xunit;

namespace Farm.Simulation.Tests.X86;

/// <summary>
/// The form-specialised handlers (chosen at decode time for speed) against the generic handler
/// of the same instruction: random encodings of the specialised opcodes, random registers
/// (addresses in and out of guest memory, edge values), flags and write protection; both
/// handlers must leave identical registers, RFLAGS, RIP and memory, and return or throw the same.
/// </summary>
public sealed class FormHandlerTests
{
    private const ulong MemorySize = 16 * 1024;
    private const ulong CodeAt = 0x1000;
    private const int Cases = 30_000;

    /// <summary>Opcodes of the specialised forms: ALU r/m,r and r,r/m, the 81/83 immediates, inc/dec/not/neg
    /// (ff, f7), shifts by an immediate (c1, d1), mov (89, 8b, c7, b8+r), lea, jcc (7x, 0f 8x), and
    /// stos/movs with and without rep (a REX.W prefix makes them 8-byte, 0x67 32-bit addressed).</summary>
    private static readonly byte[][] Opcodes =
    [
        [0x01], [0x03], [0x09], [0x0b], [0x11], [0x13], [0x19], [0x1b], [0x21], [0x23], [0x29], [0x2b],
        [0x31], [0x33], [0x39], [0x3b], [0x85], [0x81], [0x83], [0xf7], [0xff], [0xc1], [0xd1],
        [0x89], [0x8b], [0xc7], [0xc7], [0xb8], [0xbb], [0xbf], [0x8d], [0x7c], [0x0f, 0x85],
        [0xf3, 0xab], [0xf3, 0xaa], [0xab], [0xf3, 0xa5], [0xf3, 0xa4], [0xa5], // stos, movs (StringForm)
    ];

    private static readonly byte[] Prefixes64 = [0x48, 0x49, 0x4c, 0x4d, 0x41, 0x44, 0x67, 0x40];

    private static readonly ulong[] Edges =
    [
        0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000,
        0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, ulong.MaxValue, ulong.MaxValue - 1,
    ];

    [Theory]
    [InlineData(64)]
    [InlineData(32)]
    public void Specialised_handlers_match_the_generic_ones(int bitness)
    {
        var rng = new Random(0x0f0e + bitness);
        var fast = new Rig(bitness);
        var slow = new Rig(bitness);
        var hits = new Dictionary<string, int>();
        var code = new byte[15];
        for (int i = 0; i < Cases; i++)
        {
            int n = 0;
            if (bitness == 64 && rng.Next(3) != 0) code[n++] = Prefixes64[rng.Next(Prefixes64.Length)];
            foreach (var op in Opcodes[rng.Next(Opcodes.Length)]) code[n++] = op;
            while (n < code.Length) code[n++] = (byte)rng.Next(256);
            var ins = Decoder.Create(bitness, new ByteArrayCodeReader(code), CodeAt).Decode();
            if (ins.Code == Code.INVALID) continue;
            var chosen = HandlerSelector.For(in ins);
            var generic = HandlerTable.ByCode[(int)ins.Code];
            if (ReferenceEquals(chosen, generic)) continue;
            string family = chosen.GetType().Name;
            if (family.Contains('`')) family = family[..family.IndexOf('`')];
            hits[family] = hits.GetValueOrDefault(family) + 1;

            ulong seed = (ulong)rng.NextInt64();
            fast.Reset(seed, code);
            slow.Reset(seed, code);
            string a = fast.Execute(chosen, ins), b = slow.Execute(generic, ins);
            string where = $"case {i}: '{Interpreter.Format(ins)}' ({DecodedCodeCache.Hex(code.AsSpan(0, ins.Length))}) in {bitness}-bit mode";
            Assert.True(a == b, $"{where}: specialised {a}, generic {b}");
            Assert.True(fast.Cpu.Gpr.SequenceEqual(slow.Cpu.Gpr), $"{where}: registers differ");
            Assert.True(fast.Cpu.Rflags == slow.Cpu.Rflags, $"{where}: RFLAGS 0x{fast.Cpu.Rflags:x}, generic 0x{slow.Cpu.Rflags:x}");
            Assert.True(fast.Cpu.Rip == slow.Cpu.Rip, $"{where}: RIP 0x{fast.Cpu.Rip:x}, generic 0x{slow.Cpu.Rip:x}");
            Assert.True(fast.MemoryBytes().SequenceEqual(slow.MemoryBytes()), $"{where}: memory differs");
        }
        // Every family was exercised (a selector that stopped choosing one would fail here);
        // 32-bit mode has no r/m64 forms but the same families.
        string[] families = ["AluRR", "AluRI", "AluRM", "AluMR", "AluMI", "UnaryR", "ShiftRI",
            "MovRR", "MovRI", "MovRM", "MovMR", "MovMI", "LeaR", nameof(StringForm)];
        foreach (var f in families)
            Assert.True(hits.GetValueOrDefault(f) >= 50, $"{f}: {hits.GetValueOrDefault(f)} cases ({string.Join(", ", hits.Select(h => $"{h.Key} {h.Value}"))})");
        Assert.True(hits.GetValueOrDefault(nameof(JccRel)) >= 50, $"JccRel: {hits.GetValueOrDefault(nameof(JccRel))} cases");
    }

    [Theory]
    [InlineData(64)]
    [InlineData(32)]
    public void Common_forms_get_a_specialised_handler(int bitness)
    {
        // What the kernel routines and the benchmarks execute most.
        var forms = bitness == 64
            ? new Action<Assembler>[]
            {
                a => a.add(AssemblerRegisters.rax, AssemblerRegisters.rbx), a => a.sub(AssemblerRegisters.rax, 7),
                a => a.xor(AssemblerRegisters.eax, AssemblerRegisters.eax), a => a.mov(AssemblerRegisters.rax, AssemblerRegisters.__qword_ptr[AssemblerRegisters.rdi + 8]),
                a => a.mov(AssemblerRegisters.__qword_ptr[AssemblerRegisters.rdi + 8], AssemblerRegisters.rax), a => a.lea(AssemblerRegisters.rax, AssemblerRegisters.__[AssemblerRegisters.rbx + 8]),
                a => a.shr(AssemblerRegisters.rdx, 1), a => a.dec(AssemblerRegisters.ecx), a => a.mov(AssemblerRegisters.ecx, 1000),
            }
            : new Action<Assembler>[]
            {
                a => a.add(AssemblerRegisters.eax, AssemblerRegisters.ebx), a => a.and(AssemblerRegisters.__dword_ptr[AssemblerRegisters.eax], -3),
                a => a.mov(AssemblerRegisters.__dword_ptr[AssemblerRegisters.eax + 4], AssemblerRegisters.edx), a => a.mov(AssemblerRegisters.edx, AssemblerRegisters.__dword_ptr[AssemblerRegisters.eax + 4]),
            };
        foreach (var emit in forms)
        {
            var ins = Asm.Decode(bitness, Asm.Build(bitness, emit));
            Assert.False(ReferenceEquals(HandlerSelector.For(in ins), HandlerTable.ByCode[(int)ins.Code]), Interpreter.Format(ins));
        }
        var jne = Asm.Decode(bitness, [0x75, 0x10]);
        Assert.IsType<JccRel>(HandlerSelector.For(in jne));
    }

    /// <summary>One machine: 16 KiB of memory, the instruction at 0x1000, random data and registers.</summary>
    private sealed class Rig
    {
        private readonly GuestMemory _memory = new(MemorySize);
        private readonly FrameGate _gate = new();
        private readonly Interpreter _it;
        private readonly byte[] _data = new byte[MemorySize];
        private readonly byte[] _read = new byte[MemorySize];

        public Rig(int bitness)
        {
            Cpu = new GuestCpu(bitness);
            _it = new Interpreter(Cpu, _memory, _gate);
        }

        public GuestCpu Cpu { get; }

        public void Reset(ulong seed, byte[] code)
        {
            var rng = new Random((int)seed ^ (int)(seed >> 32));
            rng.NextBytes(_data);
            _memory.WriteBytes(0, _data);
            _memory.WriteBytes(CodeAt, code);
            for (int r = 0; r < 16; r++)
            {
                Cpu.Gpr[r] = rng.Next(3) switch
                {
                    0 => (ulong)rng.Next(0, (int)MemorySize), // an address in guest memory (with a small displacement)
                    1 => Edges[rng.Next(Edges.Length)],
                    _ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63),
                };
            }
            Cpu.Rflags = Flags.Reserved | ((ulong)rng.NextInt64() & (Flags.Arith | Flags.DF));
            Cpu.Rip = CodeAt;
            _gate.Protected.Clear();
            for (ulong gfn = 0; gfn < MemorySize >> GuestMemory.PageShift; gfn++)
                if (rng.Next(4) == 0) _gate.Protected.Add(gfn);
        }

        public string Execute(OpHandler handler, in Instruction ins)
        {
            try
            {
                return handler.Execute(_it, in ins) ? "retired" : "write refused";
            }
            catch (Exception e) when (e is GuestCodeException or GuestMemoryAccessException)
            {
                return $"{e.GetType().Name}: {e.Message}";
            }
        }

        public byte[] MemoryBytes()
        {
            _memory.ReadBytes(0, _read);
            return _read;
        }
    }
}
