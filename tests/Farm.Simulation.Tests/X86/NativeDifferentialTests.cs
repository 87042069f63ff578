using System.Buffers.Binary;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Farm.Simulation.X86;
using Iced.Intel;
using Xunit;

namespace Farm.Simulation.Tests.X86;

/// <summary>
/// Differential tests against the real CPU (docs/testing-native.md): the C routines in
/// Native/routines.c are compiled with gcc -O2 once per test class; the native harness
/// (Native/harness.c, linked with the same object) runs every routine on deterministic cases
/// and prints the return value and the buffer afterwards; the object's .text is loaded into
/// guest memory and the interpreter runs the same cases. Return values and buffers must match.
/// </summary>
public sealed class NativeDifferentialTests(NativeRoutinesFixture native) : IClassFixture<NativeRoutinesFixture>
{
    /// <summary>Every routine of routines.c (and of harness.c's ROUTINES list), one theory row each.</summary>
    public static readonly string[] RoutineNames =
    [
        "clear_page", "fill_pattern", "fill_bytes", "fill_variable", "zero_loop", "unrolled_stores",
        "atomic_and_byte", "atomic_or_qword", "test_and_set_bit", "test_and_clear_bit",
        "exchange_qword", "pte_wrprotect", "atomic_counters", "copy_block", "copy_small",
        "copy_loop", "checksum", "divide", "wide_multiply", "bit_scan", "bit_ops",
        "select_minmax", "pte_walk", "narrow_ops", "carry_chain", "narrow_rotates", "cmpxchg_try",
        "refcount_ops", "narrow_divide", "string_dwords", "pae_set_pte",
    ];

    public static TheoryData<string> Routines => new(RoutineNames);

    // Guest layout: code, a stack below 0x80000, the buffer with a guard page either side.
    private const ulong CodeBase = 0x10000;
    private const ulong StackTop = 0x80000;
    private const ulong BufferBase = 0x100000;
    private const ulong GuardBefore = BufferBase - GuestMemory.PageSize;
    private const ulong GuardAfter = BufferBase + NativeRoutinesFixture.BufferBytes;
    private const ulong MemoryBytes = 4UL << 20;
    private const byte GuardByte = 0xcc;
    private const long Budget = 5_000_000;

    // Callee-saved registers (System V) get markers; the routine must hand them back intact.
    private static readonly int[] CalleeSaved = [3, 5, 12, 13, 14, 15];

    [Theory]
    [MemberData(nameof(Routines))]
    public void Routine_matches_the_real_cpu(string name)
    {
        var routines = native.Get();
        Assert.True(routines.Symbols.TryGetValue(name, out var symbol), $"routine '{name}' is not a symbol of routines.o");
        var cases = routines.Cases.Where(c => c.Name == name).ToList();
        Assert.True(cases.Count > 0, $"the native harness printed no case for '{name}' (is it in harness.c's ROUTINES list?)");

        var memory = new GuestMemory(MemoryBytes);
        memory.WriteBytes(CodeBase, routines.Text);
        var code = new DecodedCodeCache(memory, 64);
        var failures = new List<string>();
        var input = new byte[NativeRoutinesFixture.BufferBytes];
        var output = new byte[NativeRoutinesFixture.BufferBytes];
        var guard = new byte[GuestMemory.PageSize];

        foreach (var c in cases)
        {
            NativeRoutinesFixture.FillBuffer(input, c.Fill, c.Seed);
            if (NativeRoutinesFixture.Fnv1a(input) != c.InputFnv)
            {
                failures.Add($"case {c.Number}: the regenerated input buffer (fill {c.Fill}, seed {c.Seed:x}) does not hash like the " +
                             "harness's; FillBuffer and harness.c's fill_buffer are out of step (a test bug, not an interpreter bug)");
                continue;
            }
            memory.WriteBytes(BufferBase, input);
            Array.Fill(guard, GuardByte);
            memory.WriteBytes(GuardBefore, guard);
            memory.WriteBytes(GuardAfter, guard);

            var cpu = new GuestCpu(64);
            for (int r = 0; r < 16; r++) cpu.Gpr[r] = 0xdead_0000_0000_0000UL | ((ulong)r << 40) | (uint)c.Number;
            cpu.Rsp = StackTop;
            var interpreter = new Interpreter(cpu, memory, gate: null, code);
            var result = interpreter.Call(CodeBase + symbol.Offset, [BufferBase, c.A, c.B, c.C, c.D], Budget);

            string where = $"case {c.Number} (fill {c.Fill}, seed {c.Seed:x}, args {c.A:x} {c.B:x} {c.C:x} {c.D:x})";
            if (result.Status != ExecutionStatus.Completed)
            {
                failures.Add($"{where}: interpreter stopped with {result.Status}: {result.Error?.Message ?? result.Fault.ToString()}");
                continue;
            }
            if (cpu.Rax != c.Return)
                failures.Add($"{where}: returned {cpu.Rax:x}, the CPU returned {c.Return:x}");

            memory.ReadBytes(BufferBase, output);
            int diff = FirstDifference(output, c.Output);
            if (diff >= 0)
            {
                int q = diff & ~7;
                int differing = 0;
                for (int i = 0; i < output.Length; i++) if (output[i] != c.Output[i]) differing++;
                failures.Add($"{where}: buffer differs at byte 0x{diff:x} ({differing} byte(s) in all); qword at 0x{q:x} is " +
                             $"{BinaryPrimitives.ReadUInt64LittleEndian(output.AsSpan(q)):x16}, the CPU left " +
                             $"{BinaryPrimitives.ReadUInt64LittleEndian(c.Output.AsSpan(q)):x16}");
            }
            foreach (ulong g in new[] { GuardBefore, GuardAfter })
            {
                memory.ReadBytes(g, guard);
                int bad = Array.FindIndex(guard, b => b != GuardByte);
                if (bad >= 0) failures.Add($"{where}: wrote outside the buffer, at 0x{g + (ulong)bad:x}");
            }
            if (cpu.Rsp != StackTop)
                failures.Add($"{where}: RSP is 0x{cpu.Rsp:x} after the return, expected 0x{StackTop:x}");
            foreach (int r in CalleeSaved)
            {
                ulong expected = 0xdead_0000_0000_0000UL | ((ulong)r << 40) | (uint)c.Number;
                if (cpu.Gpr[r] != expected)
                    failures.Add($"{where}: callee-saved register #{r} is {cpu.Gpr[r]:x}, expected {expected:x}");
            }
        }

        Assert.True(failures.Count == 0,
            $"{name}: {failures.Count} mismatch(es) with the real CPU over {cases.Count} case(s):\n  " +
            string.Join("\n  ", failures.Take(12)));
    }

    [Fact]
    public void Harness_and_test_list_the_same_routines()
    {
        var routines = native.Get();
        var printed = routines.Cases.Select(c => c.Name).Distinct().ToList();
        Assert.Equal(RoutineNames, printed);
        Assert.True(RoutineNames.Length >= 14, "the issue asks for at least 12 routines; keep at least 14");
        Assert.All(RoutineNames, n => Assert.Contains(n, routines.Symbols.Keys));
        Assert.Equal(RoutineNames.Order(), routines.Symbols.Keys.Order());
        Assert.Equal(InstructionChecks.Keys.Order(), RoutineNames.Order());
    }

    [Fact]
    public void Object_code_is_position_independent_text_only()
    {
        var routines = native.Get();
        Assert.DoesNotContain("RELOCATION RECORDS", routines.RelocationDump, StringComparison.Ordinal);
        Assert.All(routines.Symbols.Values, s => Assert.True(s.Offset + s.Size <= (ulong)routines.Text.Length,
            $"symbol at 0x{s.Offset:x}+0x{s.Size:x} lies outside .text (0x{routines.Text.Length:x} bytes)"));
    }

    // ---- the instruction each routine is there to exercise ----

    private static bool Lock(in Instruction i) => i.HasLockPrefix;
    private static bool Mem(in Instruction i, MemorySize size) => i.Op0Kind == OpKind.Memory && i.MemorySize == size;
    private static bool RepString(in Instruction i, Mnemonic m) => i.Mnemonic == m && i.HasRepPrefix;

    private sealed record Check(string What, Func<Instruction, bool> Matches);

    private static readonly Dictionary<string, Check[]> InstructionChecks = new()
    {
        ["clear_page"] = [new("rep stosq", i => RepString(i, Mnemonic.Stosq))],
        ["fill_pattern"] = [new("rep stosq", i => RepString(i, Mnemonic.Stosq)), new("imul r64,r64 (byte broadcast)", i => i.Mnemonic == Mnemonic.Imul && i.OpCount == 2)],
        ["fill_bytes"] = [new("rep stosb", i => RepString(i, Mnemonic.Stosb))],
        ["fill_variable"] = [new("rep stosq", i => RepString(i, Mnemonic.Stosq))],
        ["zero_loop"] = [new("mov qword [mem], 0", i => i.Mnemonic == Mnemonic.Mov && Mem(i, MemorySize.UInt64) && i.Op1Kind == OpKind.Immediate32to64 && i.Immediate32to64 == 0)],
        ["unrolled_stores"] = [new("mov qword [mem], r64", i => i.Mnemonic == Mnemonic.Mov && Mem(i, MemorySize.UInt64) && i.Op1Kind == OpKind.Register)],
        ["atomic_and_byte"] = [new("lock and byte [mem], r8", i => i.Mnemonic == Mnemonic.And && Lock(i) && Mem(i, MemorySize.UInt8))],
        ["atomic_or_qword"] = [new("lock or qword [mem], r64", i => i.Mnemonic == Mnemonic.Or && Lock(i) && Mem(i, MemorySize.UInt64))],
        ["test_and_set_bit"] = [new("lock bts [mem], r64", i => i.Mnemonic == Mnemonic.Bts && Lock(i) && i.Op0Kind == OpKind.Memory)],
        ["test_and_clear_bit"] = [new("lock btr [mem], r64", i => i.Mnemonic == Mnemonic.Btr && Lock(i) && i.Op0Kind == OpKind.Memory)],
        ["exchange_qword"] = [new("xchg [mem], r64", i => i.Mnemonic == Mnemonic.Xchg && (i.Op0Kind == OpKind.Memory || i.Op1Kind == OpKind.Memory))],
        ["pte_wrprotect"] = [new("lock cmpxchg qword [mem], r64", i => i.Mnemonic == Mnemonic.Cmpxchg && Lock(i) && Mem(i, MemorySize.UInt64))],
        ["atomic_counters"] =
        [
            new("lock cmpxchg byte [mem], r8", i => i.Mnemonic == Mnemonic.Cmpxchg && Lock(i) && Mem(i, MemorySize.UInt8)),
            new("lock xadd qword [mem], r64", i => i.Mnemonic == Mnemonic.Xadd && Lock(i) && Mem(i, MemorySize.UInt64)),
        ],
        ["copy_block"] = [new("rep movsq", i => RepString(i, Mnemonic.Movsq))],
        ["copy_small"] = [new("rep movsb", i => RepString(i, Mnemonic.Movsb))],
        ["copy_loop"] =
        [
            new("mov r64, qword [mem]", i => i.Mnemonic == Mnemonic.Mov && i.Op1Kind == OpKind.Memory && i.MemorySize == MemorySize.UInt64),
            new("mov [base+index*8], r64", i => i.Mnemonic == Mnemonic.Mov && i.Op0Kind == OpKind.Memory && i.MemoryIndexScale == 8),
        ],
        ["checksum"] =
        [
            new("rol", i => i.Mnemonic == Mnemonic.Rol), new("ror r64, cl", i => i.Mnemonic is Mnemonic.Ror or Mnemonic.Rol && i.Op1Register == Register.CL),
            new("sar", i => i.Mnemonic == Mnemonic.Sar), new("shr", i => i.Mnemonic == Mnemonic.Shr),
            new("imul r64,r64", i => i.Mnemonic == Mnemonic.Imul && i.OpCount >= 2), new("movsx", i => i.Mnemonic == Mnemonic.Movsx),
        ],
        ["divide"] =
        [
            new("div r64", i => i.Mnemonic == Mnemonic.Div && i.Op0Register.GetSize() == 8), new("div r32", i => i.Mnemonic == Mnemonic.Div && i.Op0Register.GetSize() == 4),
            new("idiv r64", i => i.Mnemonic == Mnemonic.Idiv && i.Op0Register.GetSize() == 8), new("idiv r32", i => i.Mnemonic == Mnemonic.Idiv && i.Op0Register.GetSize() == 4),
            new("cqo", i => i.Mnemonic == Mnemonic.Cqo), new("mul/imul (magic-number division)", i => i.Mnemonic is Mnemonic.Mul or Mnemonic.Imul),
        ],
        ["wide_multiply"] =
        [
            new("mul r64 (one operand)", i => i.Mnemonic == Mnemonic.Mul && i.OpCount == 1),
            new("imul r64 (one operand)", i => i.Mnemonic == Mnemonic.Imul && i.OpCount == 1),
        ],
        ["bit_scan"] =
        [
            new("tzcnt/bsf", i => i.Mnemonic is Mnemonic.Tzcnt or Mnemonic.Bsf), new("bsr", i => i.Mnemonic == Mnemonic.Bsr),
            new("popcnt", i => i.Mnemonic == Mnemonic.Popcnt),
        ],
        ["bit_ops"] =
        [
            new("bt r64, r64", i => i.Mnemonic == Mnemonic.Bt), new("bts r64, r64", i => i.Mnemonic == Mnemonic.Bts && !Lock(i)),
            new("btc r64, r64", i => i.Mnemonic == Mnemonic.Btc),
        ],
        ["select_minmax"] =
        [
            new("cmovcc", i => i.Mnemonic.ToString().StartsWith("Cmov", StringComparison.Ordinal)),
            new("setcc", i => i.Mnemonic.ToString().StartsWith("Set", StringComparison.Ordinal)),
        ],
        ["pte_walk"] = [new("lock or qword [mem], imm/r64", i => i.Mnemonic == Mnemonic.Or && Lock(i) && Mem(i, MemorySize.UInt64))],
        ["narrow_ops"] =
        [
            new("bswap", i => i.Mnemonic == Mnemonic.Bswap), new("movsx from 16 bits", i => i.Mnemonic == Mnemonic.Movsx && i.MemorySize == MemorySize.Int16),
            new("movzx", i => i.Mnemonic == Mnemonic.Movzx),
        ],
        ["carry_chain"] =
        [
            new("adc r64, r64", i => i.Mnemonic == Mnemonic.Adc), new("sbb r64, r64", i => i.Mnemonic == Mnemonic.Sbb),
        ],
        ["narrow_rotates"] =
        [
            new("rol r16, cl", i => i.Mnemonic == Mnemonic.Rol && i.Op0Register.GetSize() == 2 && i.Op1Register == Register.CL),
            new("ror r8, cl", i => i.Mnemonic == Mnemonic.Ror && i.Op0Register.GetSize() == 1 && i.Op1Register == Register.CL),
            new("rol r8, imm", i => i.Mnemonic == Mnemonic.Rol && i.Op0Register.GetSize() == 1 && i.Op1Kind == OpKind.Immediate8),
            new("sar r32, cl", i => i.Mnemonic == Mnemonic.Sar && i.Op1Register == Register.CL),
        ],
        ["cmpxchg_try"] =
        [
            new("lock cmpxchg qword", i => i.Mnemonic == Mnemonic.Cmpxchg && Lock(i) && Mem(i, MemorySize.UInt64)),
            new("lock cmpxchg dword", i => i.Mnemonic == Mnemonic.Cmpxchg && Lock(i) && Mem(i, MemorySize.UInt32)),
            new("lock cmpxchg word", i => i.Mnemonic == Mnemonic.Cmpxchg && Lock(i) && Mem(i, MemorySize.UInt16)),
            new("sete", i => i.Mnemonic == Mnemonic.Sete),
        ],
        ["refcount_ops"] =
        [
            new("lock sub/dec dword [mem] (then sete)", i => i.Mnemonic is Mnemonic.Sub or Mnemonic.Dec && Lock(i) && Mem(i, MemorySize.UInt32)),
            new("lock add dword [mem], r32 (then sets)", i => i.Mnemonic == Mnemonic.Add && Lock(i) && Mem(i, MemorySize.UInt32)),
            new("sets", i => i.Mnemonic == Mnemonic.Sets),
            new("lock add/inc qword [mem]", i => i.Mnemonic is Mnemonic.Add or Mnemonic.Inc && Lock(i) && Mem(i, MemorySize.UInt64)),
            new("lock xor qword [mem], r64", i => i.Mnemonic == Mnemonic.Xor && Lock(i) && Mem(i, MemorySize.UInt64)),
            new("lock btc [mem], r64", i => i.Mnemonic == Mnemonic.Btc && Lock(i)),
            new("xchg dword [mem], r32", i => i.Mnemonic == Mnemonic.Xchg && i.MemorySize == MemorySize.UInt32),
            new("xchg byte [mem], r8", i => i.Mnemonic == Mnemonic.Xchg && i.MemorySize == MemorySize.UInt8),
        ],
        ["narrow_divide"] =
        [
            new("div r8", i => i.Mnemonic == Mnemonic.Div && i.Op0Register.GetSize() == 1),
            new("div r16", i => i.Mnemonic == Mnemonic.Div && i.Op0Register.GetSize() == 2),
            new("movzx r32, ah", i => i.Mnemonic == Mnemonic.Movzx && i.Op1Register == Register.AH),
            new("sbb r64, 0", i => i.Mnemonic == Mnemonic.Sbb),
            new("imul r, r/m, imm", i => i.Mnemonic == Mnemonic.Imul && i.OpCount == 3),
        ],
        ["string_dwords"] =
        [
            new("rep stosd", i => RepString(i, Mnemonic.Stosd)),
            new("rep movsd (string form)", i => RepString(i, Mnemonic.Movsd) && i.IsStringInstruction),
        ],
        ["pae_set_pte"] =
        [
            new("lock cmpxchg8b qword [mem]", i => i.Mnemonic == Mnemonic.Cmpxchg8b && Lock(i) && Mem(i, MemorySize.UInt64)),
            new("mov dword [mem], r32", i => i.Mnemonic == Mnemonic.Mov && Mem(i, MemorySize.UInt32) && i.Op1Kind == OpKind.Register),
            new("sete", i => i.Mnemonic == Mnemonic.Sete),
        ],
    };

    [Fact]
    public void Object_code_has_the_intended_instructions()
    {
        var routines = native.Get();
        var missing = new List<string>();
        foreach (var (name, checks) in InstructionChecks)
        {
            var body = routines.Decode(name);
            foreach (var check in checks)
                if (!body.Any(check.Matches))
                    missing.Add($"{name}: no {check.What}");
            // String instructions only where intended: a loop the test wants kept as a loop
            // must not have been turned into rep stos/movs (or a call: there are no relocations).
            if (name is "zero_loop" or "copy_loop" or "unrolled_stores" && body.Any(i => i.IsStringInstruction))
                missing.Add($"{name}: became a string instruction instead of a store loop");
            if (name == "unrolled_stores" && body.Count(i => i.Mnemonic == Mnemonic.Mov && i.Op0Kind == OpKind.Memory) < 8)
                missing.Add($"{name}: fewer than 8 stores, so the loop was not unrolled");
            if (body.Any(i => i.Mnemonic == Mnemonic.Call))
                missing.Add($"{name}: contains a call");
        }
        Assert.True(missing.Count == 0,
            "the object code lacks instructions the routines are there to exercise (compiler flags or gcc version changed?):\n  " +
            string.Join("\n  ", missing) + "\n" + routines.Disassembly(missing.Select(m => m[..m.IndexOf(':')]).Distinct()));
    }

    private static int FirstDifference(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        int n = a.CommonPrefixLength(b);
        return n == a.Length && a.Length == b.Length ? -1 : n;
    }
}

/// <summary>Compiles routines.c and the harness once per test class, runs the harness, and
/// holds the object's .text, its symbols and the native results.</summary>
public sealed class NativeRoutinesFixture : IDisposable
{
    /// <summary>BUF_BYTES of routines.c and harness.c.</summary>
    public const int BufferBytes = 16384;

    /// <summary>Flags for routines.c; docs/testing-native.md explains each.</summary>
    public static readonly string[] CompileFlags =
    [
        "-O2", "-fno-pic", "-fno-asynchronous-unwind-tables", "-fcf-protection=none", "-mgeneral-regs-only",
        "-mpopcnt", "-fno-tree-loop-distribute-patterns", "-fno-jump-tables", "-fno-stack-protector",
        "-minline-all-stringops",
        "-mmemset-strategy=rep_byte:64:noalign,rep_4byte:256:noalign,rep_8byte:-1:noalign",
        "-mmemcpy-strategy=rep_byte:64:noalign,rep_4byte:256:noalign,rep_8byte:-1:noalign",
        "-std=gnu11", "-Wall", "-Wextra", "-Werror",
    ];

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(10); // bounds a hang, not the work

    private readonly string _workDir;
    private readonly NativeRoutines? _routines;
    private readonly Exception? _setupError;

    public NativeRoutinesFixture()
    {
        _workDir = Directory.CreateTempSubdirectory("farm-native-").FullName;
        try
        {
            _routines = Build();
        }
        catch (Exception e)
        {
            _setupError = e;
        }
    }

    /// <summary>The compiled routines, or a clear reason why they could not be built.</summary>
    public NativeRoutines Get() => _routines ?? throw new InvalidOperationException(
        $"native differential test setup failed: {_setupError!.Message}", _setupError);

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private NativeRoutines Build()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            throw new PlatformNotSupportedException(
                $"the native differential tests run x86-64 code on the host CPU and need Linux on x86-64 (this is {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture})");
        string source = Path.Combine(AppContext.BaseDirectory, "Native");
        string routinesC = Path.Combine(source, "routines.c"), harnessC = Path.Combine(source, "harness.c");
        foreach (var f in new[] { routinesC, harnessC })
            if (!File.Exists(f)) throw new FileNotFoundException($"{f} is missing from the test output (the csproj copies Native/**)", f);

        string gcc = FindTool("gcc", "gcc is not on PATH; the native differential tests compile Native/routines.c with it (CI installs it; locally: apt-get install gcc)");
        string objcopy = FindTool("objcopy", "objcopy (binutils) is not on PATH; it comes with gcc (apt-get install binutils)");
        string objdump = FindTool("objdump", "objdump (binutils) is not on PATH; it comes with gcc (apt-get install binutils)");

        string obj = Path.Combine(_workDir, "routines.o");
        string exe = Path.Combine(_workDir, "harness");
        string text = Path.Combine(_workDir, "routines.text.bin");
        RunTool(gcc, [.. CompileFlags, "-c", routinesC, "-o", obj]);
        RunTool(gcc, ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror", harnessC, obj, "-o", exe]);
        RunTool(objcopy, ["-O", "binary", "--only-section=.text", obj, text]);
        string symbols = RunTool(objdump, ["-t", obj]);
        string relocations = RunTool(objdump, ["-r", obj]);
        string harnessOutput = RunTool(exe, []);

        return new NativeRoutines(File.ReadAllBytes(text), ParseSymbols(symbols), relocations, ParseCases(harnessOutput));
    }

    private static string FindTool(string name, string missing)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException(missing);
    }

    /// <summary>Runs a tool, returns its stdout; a non-zero exit, a timeout or a failure to
    /// start is an exception that shows the command line and the tool's stderr.</summary>
    private string RunTool(string file, IReadOnlyList<string> args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _workDir,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        string commandLine = file + " " + string.Join(' ', args);
        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"could not start '{commandLine}': {e.Message}", e);
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(ToolTimeout))
        {
            try { process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
            throw new TimeoutException($"'{commandLine}' did not finish within {ToolTimeout}");
        }
        process.WaitForExit(); // drains the redirected streams
        if (process.ExitCode != 0)
        {
            // On Linux a process killed by signal N reports 128+N (the harness crashing, say).
            string signal = process.ExitCode > 128 ? $" (killed by signal {process.ExitCode - 128})" : "";
            throw new InvalidOperationException($"'{commandLine}' failed with exit code {process.ExitCode}{signal}:\n{stderr.Result}");
        }
        return stdout.Result;
    }

    /// <summary>Function symbols from objdump -t: "offset flags section\tsize name".</summary>
    private static Dictionary<string, NativeSymbol> ParseSymbols(string dump)
    {
        var symbols = new Dictionary<string, NativeSymbol>(StringComparer.Ordinal);
        foreach (string line in dump.Split('\n'))
        {
            int tab = line.IndexOf('\t');
            if (tab < 0 || line.Length < 25) continue;
            string flags = line.Substring(17, 7);
            if (!flags.Contains('F')) continue;
            string section = line[24..tab].Trim();
            string[] right = line[(tab + 1)..].Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
            if (right.Length != 2) continue;
            if (section != ".text")
                throw new InvalidOperationException($"function {right[1]} is in section {section}, not .text; only .text is loaded into the guest");
            symbols[right[1].Trim()] = new NativeSymbol(
                ulong.Parse(line.AsSpan(0, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                ulong.Parse(right[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
        if (symbols.Count == 0) throw new InvalidOperationException($"no function symbols in objdump -t output:\n{dump}");
        return symbols;
    }

    /// <summary>The harness protocol (see harness.c): "case name n fill seed a b c d in-fnv ret out", then "end count".</summary>
    private static List<NativeCase> ParseCases(string output)
    {
        var cases = new List<NativeCase>();
        int? end = null;
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Split(' ');
            if (f[0] == "end" && f.Length == 2)
            {
                end = int.Parse(f[1], CultureInfo.InvariantCulture);
                continue;
            }
            if (f[0] != "case" || f.Length != 12)
                throw new InvalidOperationException($"unexpected harness output line: {line[..Math.Min(line.Length, 120)]}");
            static ulong Hex(string s) => ulong.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            byte[] buffer = Convert.FromHexString(f[11]);
            if (buffer.Length != BufferBytes)
                throw new InvalidOperationException($"harness printed a {buffer.Length}-byte buffer for {f[1]} case {f[2]}, expected {BufferBytes}");
            cases.Add(new NativeCase(f[1], int.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture),
                Hex(f[4]), Hex(f[5]), Hex(f[6]), Hex(f[7]), Hex(f[8]), Hex(f[9]), Hex(f[10]), buffer));
        }
        if (end != cases.Count)
            throw new InvalidOperationException($"harness output is truncated: {cases.Count} case line(s), end line says {end?.ToString(CultureInfo.InvariantCulture) ?? "(missing)"}");
        return cases;
    }

    /// <summary>The harness's fill_buffer: xorshift64 from the seed, one draw per qword
    /// (three for the sparse fill), little-endian.</summary>
    public static void FillBuffer(Span<byte> buffer, int fill, ulong seed)
    {
        ulong s = seed;
        ulong Next()
        {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            return s;
        }
        for (int i = 0; i < buffer.Length / 8; i++)
        {
            ulong v = Next();
            switch (fill)
            {
                case 1: v &= Next() & Next(); break;
                case 2: v = ulong.MaxValue; break;
                case 3: v &= 0x0000_ffff_00ff_00ffUL; break;
            }
            BinaryPrimitives.WriteUInt64LittleEndian(buffer[(8 * i)..], v);
        }
    }

    public static ulong Fnv1a(ReadOnlySpan<byte> bytes)
    {
        ulong h = 0xcbf29ce484222325UL;
        foreach (byte b in bytes)
        {
            h ^= b;
            h *= 0x100000001b3UL;
        }
        return h;
    }
}

public readonly record struct NativeSymbol(ulong Offset, ulong Size);

public sealed record NativeCase(string Name, int Number, int Fill, ulong Seed, ulong A, ulong B, ulong C, ulong D,
    ulong InputFnv, ulong Return, byte[] Output);

public sealed class NativeRoutines(byte[] text, Dictionary<string, NativeSymbol> symbols, string relocationDump, List<NativeCase> cases)
{
    public byte[] Text { get; } = text;
    public IReadOnlyDictionary<string, NativeSymbol> Symbols { get; } = symbols;
    public string RelocationDump { get; } = relocationDump;
    public IReadOnlyList<NativeCase> Cases { get; } = cases;

    /// <summary>The routine's instructions, decoded with Iced at their .text offsets.</summary>
    public List<Instruction> Decode(string name)
    {
        var s = Symbols[name];
        var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(Text, (int)s.Offset, (int)s.Size), s.Offset);
        var list = new List<Instruction>();
        while (decoder.IP < s.Offset + s.Size)
        {
            decoder.Decode(out var ins);
            list.Add(ins);
        }
        return list;
    }

    public string Disassembly(IEnumerable<string> names)
    {
        var sb = new StringBuilder();
        var formatter = new NasmFormatter();
        var output = new StringOutput();
        foreach (string name in names.Where(Symbols.ContainsKey))
        {
            sb.Append(name).Append(":\n");
            foreach (var ins in Decode(name))
            {
                formatter.Format(ins, output);
                sb.Append(CultureInfo.InvariantCulture, $"  {ins.IP:x4}  {output.ToStringAndReset()}\n");
            }
        }
        return sb.ToString();
    }
}
