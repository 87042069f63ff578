using Farm.Simulation.GuestCode;
using Farm.Simulation.X86;
using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Farm.Simulation.Tests.X86;

/// <summary>Write faults, retry, KVM-style emulation and error reporting.</summary>
public sealed class InterpreterTests
{
    private const ulong Frame0 = Machine.DataBase;          // 0x20000
    private const ulong Frame1 = Machine.DataBase + 0x1000; // 0x21000

    // ---- rep stos over two frames, the second protected ----

    private static (Machine m, ulong stos) RepStosqOverTwoFrames(ulong start = Frame0, ulong count = 1024)
    {
        var m = new Machine();
        ulong entry = m.Load(a =>
        {
            a.mov(rax, 0x1122_3344_5566_7788L);
            a.rep.stosq();
            a.ret();
        });
        // mov rax, imm64 is 10 bytes.
        ulong stos = entry + 10;
        m.Cpu.Rcx = count;
        m.Cpu.Rdi = start;
        m.Protect(Frame1);
        return (m, stos);
    }

    [Fact]
    public void Rep_stosq_stops_at_the_first_element_of_the_protected_frame()
    {
        var (m, stos) = RepStosqOverTwoFrames();
        var result = m.Call(Machine.CodeBase);

        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        var f = result.Fault;
        Assert.Equal(Frame1, f.Address);
        Assert.Equal(Frame1 >> 12, f.Gfn);
        Assert.Equal(8, f.Size);
        Assert.Equal(0x1122_3344_5566_7788UL, f.Value);
        Assert.Equal(512, f.ElementIndex);
        Assert.Equal(stos, f.Rip);
        Assert.Equal(Mnemonic.Stosq, f.Instruction.Mnemonic);
        Assert.Equal(stos, m.Cpu.Rip);
        Assert.Equal(512UL, m.Cpu.Rcx);
        Assert.Equal(Frame1, m.Cpu.Rdi);
        Assert.True(f.Class.IsString);
        Assert.True(f.Class.IsRep);
        Assert.False(f.Class.IsPageTableWriting);

        Assert.All(Chunks(m.ReadBytes(Frame0, 4096)), q => Assert.Equal(0x1122_3344_5566_7788UL, q));
        Assert.All(m.ReadBytes(Frame1, 4096), b => Assert.Equal(0, b));

        // KVM unprotects the frame and lets the guest retry: the instruction resumes where it stopped.
        m.Unprotect(Frame1);
        result = m.Interpreter.Run();
        Assert.True(result.IsCompleted, Machine.Describe(result));
        Assert.Equal(0UL, m.Cpu.Rcx);
        Assert.Equal(Frame1 + 4096, m.Cpu.Rdi);
        Assert.All(Chunks(m.ReadBytes(Frame0, 8192)), q => Assert.Equal(0x1122_3344_5566_7788UL, q));
        Assert.Equal(Machine.StackTop, m.Cpu.Rsp);
    }

    [Fact]
    public void Rep_stosq_starting_in_the_protected_frame_faults_at_element_zero()
    {
        var (m, stos) = RepStosqOverTwoFrames(start: Frame1 + 0x100, count: 4);
        var result = m.Call(Machine.CodeBase);
        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        Assert.Equal(0, result.Fault.ElementIndex);
        Assert.Equal(Frame1 + 0x100, result.Fault.Address);
        Assert.Equal(4UL, m.Cpu.Rcx);
        Assert.Equal(stos, m.Cpu.Rip);
    }

    [Fact]
    public void An_element_straddling_into_a_protected_frame_faults_with_its_own_address()
    {
        // The element at 0x20ffc covers 0x20ffc..0x21003: it touches the protected frame.
        var (m, _) = RepStosqOverTwoFrames(start: Frame1 - 4 - 8 * 3, count: 10);
        var result = m.Call(Machine.CodeBase);
        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        Assert.Equal(3, result.Fault.ElementIndex);
        Assert.Equal(Frame1 - 4, result.Fault.Address);
        Assert.Equal(7UL, m.Cpu.Rcx);
        Assert.Equal(0UL, m.Read(Frame1 - 4, 4)); // the straddling element did not half-happen
    }

    [Fact]
    public void Rep_stosq_downwards_faults_at_the_frame_boundary()
    {
        var (m, _) = RepStosqOverTwoFrames(start: Frame1 + 8 * 3, count: 10);
        m.Unprotect(Frame1);
        m.Protect(Frame0);
        m.Cpu.Rflags |= Flags.DF;
        var result = m.Call(Machine.CodeBase);
        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        Assert.Equal(4, result.Fault.ElementIndex); // 0x21018, 0x21010, 0x21008, 0x21000, then 0x20ff8
        Assert.Equal(Frame1 - 8, result.Fault.Address);
        Assert.Equal(6UL, m.Cpu.Rcx);
        Assert.Equal(Frame1 - 8, m.Cpu.Rdi);
    }

    [Fact]
    public void EmulateOne_on_a_faulted_rep_stosq_emulates_one_element()
    {
        var (m, stos) = RepStosqOverTwoFrames();
        var result = m.Call(Machine.CodeBase);
        Assert.Equal(ExecutionStatus.WriteFault, result.Status);

        var sink = new RecordingSink();
        bool retired = m.Interpreter.EmulateOne(sink, 1, out var error);
        Assert.Null(error);
        Assert.False(retired); // elements remain
        var w = Assert.Single(sink.Writes);
        Assert.Equal((Frame1, 8, 0x1122_3344_5566_7788UL), w);
        Assert.Equal(0x1122_3344_5566_7788UL, m.Read(Frame1)); // the emulator wrote guest memory
        Assert.Equal(511UL, m.Cpu.Rcx);
        Assert.Equal(Frame1 + 8, m.Cpu.Rdi);
        Assert.Equal(stos, m.Cpu.Rip);

        // Back in the guest the frame is still protected: it faults again, one element further.
        result = m.Interpreter.Run();
        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        Assert.Equal(Frame1 + 8, result.Fault.Address);
        Assert.Equal(0, result.Fault.ElementIndex);

        // Emulating the rest, a bounded number of elements at a time, retires the instruction.
        int calls = 0;
        while (!m.Interpreter.EmulateOne(sink, 100, out error))
        {
            Assert.Null(error);
            calls++;
        }
        Assert.Null(error);
        Assert.Equal(5, calls); // 511 elements: 5 pauses of 100, then the last 11
        Assert.Equal(512, sink.Writes.Count);
        Assert.Equal(0UL, m.Cpu.Rcx);
        Assert.Equal(stos + 3, m.Cpu.Rip); // past f3 48 ab
    }

    [Fact]
    public void EmulateOne_of_a_plain_store_reports_it_and_retires()
    {
        var m = new Machine();
        ulong entry = m.Load(a => { a.mov(__qword_ptr[rdi + 8], rsi); a.ret(); });
        m.Cpu.Rip = entry;
        m.Cpu.Rdi = Frame1;
        m.Cpu.Rsi = 0xabcdef;
        m.Protect(Frame1);
        var sink = new RecordingSink();
        Assert.True(m.Interpreter.EmulateOne(sink, 1, out var error));
        Assert.Null(error);
        Assert.Equal((Frame1 + 8, 8, 0xabcdefUL), Assert.Single(sink.Writes));
        Assert.Equal(0xabcdefUL, m.Read(Frame1 + 8));
        Assert.Equal(entry + 4, m.Cpu.Rip);
    }

    // ---- page-table writing routines on a protected frame ----

    [Theory]
    [InlineData("linux-3.x")]
    [InlineData("linux-3.x-i386")]
    [InlineData("linux-3.x-pae")]
    public void Lock_and_byte_wrprotect_faults_with_size_1(string flavourName)
    {
        var flavour = GuestFlavour.BuiltIn(flavourName);
        var m = new Machine(flavour.Bitness);
        var image = new RoutineImage(flavour, m.Memory, Machine.CodeBase);
        ulong ptep = Frame1 + 0x40;
        ulong pte = flavour.PteSize == 8 ? 0x8000_0000_1234_5067UL : 0x1234_5067UL;
        m.Write(ptep, pte, flavour.PteSize);
        m.Protect(ptep);

        ulong entry = image.EntryOf(KernelOp.PtepSetWrprotect);
        var result = m.Call(entry, ptep);
        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        var f = result.Fault;
        Assert.Equal(ptep, f.Address);
        Assert.Equal(1, f.Size);
        Assert.Equal(0x65UL, f.Value);
        Assert.Equal(entry, f.Rip);
        Assert.Equal(entry, m.Cpu.Rip);
        Assert.True(f.Class.IsPageTableWriting);
        Assert.True(f.Class.IsLock);
        Assert.False(f.Class.IsString);
        Assert.Equal(1, f.Class.MemoryOperandSize);
        Assert.Equal(Mnemonic.And, f.Class.Mnemonic);
        Assert.Equal(pte, m.Read(ptep, flavour.PteSize)); // unchanged

        // KVM emulates it: one byte written, reported, and the routine then returns.
        var sink = new RecordingSink();
        Assert.True(m.Interpreter.EmulateOne(sink, 1, out var error));
        Assert.Null(error);
        Assert.Equal((ptep, 1, 0x65UL), Assert.Single(sink.Writes));
        Assert.Equal(pte & ~2UL, m.Read(ptep, flavour.PteSize));
        result = m.Interpreter.Run();
        Assert.True(result.IsCompleted, Machine.Describe(result));
    }

    [Theory]
    [InlineData("linux-3.x-erms", 1)]
    [InlineData("linux-3.x", 8)]
    [InlineData("linux-3.x-i386", 4)]
    [InlineData("linux-3.x-pae", 4)]
    public void Clear_page_on_a_protected_frame_is_a_rep_string_fault(string flavourName, int size)
    {
        var flavour = GuestFlavour.BuiltIn(flavourName);
        var m = new Machine(flavour.Bitness);
        var image = new RoutineImage(flavour, m.Memory, Machine.CodeBase);
        m.Protect(Frame1);
        var result = m.Call(image.EntryOf(KernelOp.ClearPage), Frame1);
        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        var c = result.Fault.Class;
        Assert.True(c.IsString);
        Assert.True(c.IsRep);
        Assert.False(c.IsPageTableWriting);
        Assert.False(c.IsLock);
        Assert.Equal(size, c.MemoryOperandSize);
        Assert.Equal(size, result.Fault.Size);
        Assert.Equal(0, result.Fault.ElementIndex);
        Assert.Equal((ulong)(4096 / size), m.Cpu.Rcx);
        Assert.Equal(Frame1, m.Cpu.Rdi);
    }

    [Fact]
    public void Cmpxchg_wrprotect_loop_faults_and_completes_after_retry()
    {
        var flavour = GuestFlavour.BuiltIn("recent");
        var m = new Machine();
        var image = new RoutineImage(flavour, m.Memory, Machine.CodeBase);
        ulong ptep = Frame1 + 0x80;
        const ulong pte = 0x8000_0000_1234_5067UL;
        m.Write(ptep, pte);
        m.Protect(ptep);
        var result = m.Call(image.EntryOf(KernelOp.PtepSetWrprotect), ptep);
        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        var f = result.Fault;
        Assert.Equal(Mnemonic.Cmpxchg, f.Instruction.Mnemonic);
        Assert.Equal(ptep, f.Address);
        Assert.Equal(8, f.Size);
        Assert.Equal(pte & ~2UL, f.Value);
        Assert.True(f.Class.IsPageTableWriting);
        Assert.True(f.Class.IsLock);
        Assert.Equal(pte, m.Cpu.Rax);
        Assert.Equal(pte, m.Read(ptep));

        m.Unprotect(ptep);
        result = m.Interpreter.Run();
        Assert.True(result.IsCompleted, Machine.Describe(result));
        Assert.Equal(pte & ~2UL, m.Read(ptep));
    }

    [Fact]
    public void Failing_cmpxchg_on_a_protected_frame_faults_but_emulation_writes_only_the_accumulator()
    {
        var m = new Machine();
        ulong entry = m.Load(a => { a.@lock.cmpxchg(__qword_ptr[rdi], rdx); a.ret(); });
        m.Write(Frame1, 0x5555);
        m.Protect(Frame1);
        m.Cpu.Rax = 0x4444;
        m.Cpu.Rdx = 0x6666;
        var result = m.Call(entry, Frame1);
        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        Assert.Equal(0x5555UL, result.Fault.Value); // hardware writes the old value back
        Assert.Equal(0x4444UL, m.Cpu.Rax);
        Assert.Equal(0x5555UL, m.Read(Frame1));

        var sink = new RecordingSink();
        Assert.True(m.Interpreter.EmulateOne(sink, 1, out var error));
        Assert.Null(error);
        Assert.Empty(sink.Writes);
        Assert.Equal(0x5555UL, m.Cpu.Rax);
        Assert.False(m.Flag(Flags.ZF));
    }

    [Fact]
    public void Xchg_with_memory_faults_and_leaves_the_register_unchanged()
    {
        var m = new Machine();
        ulong entry = m.Load(a => { a.xchg(__qword_ptr[rdi], rax); a.ret(); });
        m.Write(Frame1, 0x1111);
        m.Protect(Frame1);
        m.Cpu.Rax = 0x2222;
        var result = m.Call(entry, Frame1);
        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        Assert.Equal(0x2222UL, result.Fault.Value);
        Assert.True(result.Fault.Class.IsPageTableWriting);
        Assert.True(result.Fault.Class.IsLock); // xchg with memory is implicitly locked
        Assert.Equal(0x2222UL, m.Cpu.Rax);
        Assert.Equal(0x1111UL, m.Read(Frame1));
        Assert.Equal(entry, m.Cpu.Rip);

        m.Unprotect(Frame1);
        Assert.True(m.Interpreter.Run().IsCompleted);
        Assert.Equal(0x1111UL, m.Cpu.Rax);
        Assert.Equal(0x2222UL, m.Read(Frame1));
    }

    [Theory]
    [InlineData("linux-3.x")]
    [InlineData("linux-3.x-i386")]
    public void Ptep_get_and_clear_faults_then_returns_the_old_pte(string flavourName)
    {
        var flavour = GuestFlavour.BuiltIn(flavourName);
        var m = new Machine(flavour.Bitness);
        var image = new RoutineImage(flavour, m.Memory, Machine.CodeBase);
        ulong ptep = Frame1 + 8;
        m.Write(ptep, 0x1234_5067, flavour.PteSize);
        m.Protect(ptep);
        var result = m.Call(image.EntryOf(KernelOp.PtepGetAndClear), ptep);
        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        Assert.Equal(Mnemonic.Xchg, result.Fault.Instruction.Mnemonic);
        Assert.Equal(0UL, result.Fault.Value);
        Assert.Equal(flavour.PteSize, result.Fault.Size);
        Assert.True(result.Fault.Class.IsPageTableWriting);
        m.Unprotect(ptep);
        result = m.Interpreter.Run();
        Assert.True(result.IsCompleted, Machine.Describe(result));
        Assert.Equal(0x1234_5067UL, m.Cpu.Rax);
        Assert.Equal(0UL, m.Read(ptep, flavour.PteSize));
    }

    [Fact]
    public void Set_pte_faults_with_the_new_value()
    {
        var flavour = GuestFlavour.BuiltIn("linux-3.x");
        var m = new Machine();
        var image = new RoutineImage(flavour, m.Memory, Machine.CodeBase);
        m.Protect(Frame1);
        var result = m.Call(image.EntryOf(KernelOp.SetPte), Frame1 + 16, 0xdead_b067);
        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        Assert.Equal((Frame1 + 16, 8, 0xdead_b067UL), (result.Fault.Address, result.Fault.Size, result.Fault.Value));
        Assert.True(result.Fault.Class.IsPageTableWriting);
        Assert.False(result.Fault.Class.IsLock);
    }

    [Fact]
    public void Copy_page_into_a_protected_frame_faults_with_source_and_destination_positioned()
    {
        var flavour = GuestFlavour.BuiltIn("linux-3.x");
        var m = new Machine();
        var image = new RoutineImage(flavour, m.Memory, Machine.CodeBase);
        for (ulong i = 0; i < 512; i++) m.Write(Frame0 + 8 * i, i * 0x0101_0101);
        // Destination starts half-way into a writable frame and runs into a protected one.
        ulong dst = Frame1 + 0x1000 + 0x800;
        m.Protect(Frame1 + 0x2000);
        var result = m.Call(image.EntryOf(KernelOp.CopyPage), dst, Frame0);
        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        Assert.Equal(256, result.Fault.ElementIndex);
        Assert.Equal(Frame1 + 0x2000, result.Fault.Address);
        Assert.Equal(256UL * 0x0101_0101, result.Fault.Value);
        Assert.Equal(256UL, m.Cpu.Rcx);
        Assert.Equal(Frame0 + 0x800, m.Cpu.Rsi);
        Assert.Equal(Frame1 + 0x2000, m.Cpu.Rdi);
        m.Gate.Protected.Clear();
        Assert.True(m.Interpreter.Run().IsCompleted);
        for (ulong i = 0; i < 512; i++) Assert.Equal(i * 0x0101_0101, m.Read(dst + 8 * i));
    }

    [Fact]
    public void Rep_movs_with_overlapping_forward_copy_repeats_the_pattern_like_hardware()
    {
        var m = new Machine();
        ulong entry = m.Load(a => { a.rep.movsb(); a.ret(); });
        m.Memory.WriteBytes(Frame0, [1, 2, 3]);
        m.Cpu.Rsi = Frame0;
        m.Cpu.Rdi = Frame0 + 3;
        m.Cpu.Rcx = 300;
        Assert.True(m.Call(entry).IsCompleted);
        var bytes = m.ReadBytes(Frame0, 303);
        for (int i = 0; i < 303; i++) Assert.Equal((byte)(i % 3 + 1), bytes[i]);
    }

    [Theory]
    [InlineData("48 89 07", 8)]          // mov [rdi], rax
    [InlineData("48 01 07", 8)]          // add [rdi], rax
    [InlineData("f0 48 0f c1 07", 8)]    // lock xadd [rdi], rax
    [InlineData("48 87 07", 8)]          // xchg [rdi], rax
    [InlineData("f0 48 0f b1 17", 8)]    // lock cmpxchg [rdi], rdx (compare fails: writes the old value back)
    [InlineData("f0 48 0f ab 0f", 8)]    // lock bts [rdi], rcx
    [InlineData("48 0f b3 0f", 8)]       // btr [rdi], rcx
    [InlineData("48 ff 07", 8)]          // inc qword [rdi]
    [InlineData("48 f7 1f", 8)]          // neg qword [rdi]
    [InlineData("48 d3 27", 8)]          // shl qword [rdi], cl
    [InlineData("0f 92 07", 1)]          // setc [rdi]
    [InlineData("8f 07", 8)]             // pop qword [rdi]
    [InlineData("48 ab", 8)]             // stosq
    [InlineData("48 a5", 8)]             // movsq
    [InlineData("f3 48 a5", 8)]          // rep movsq, first element
    [InlineData("f0 0f c7 0f", 8)]       // lock cmpxchg8b [rdi]
    [InlineData("66 89 07", 2)]          // mov [rdi], ax
    public void A_refused_write_changes_no_register_and_no_flag(string hex, int size)
    {
        var m = new Machine();
        ulong entry = m.Load([.. Farm.Simulation.GuestCode.GuestRoutine.FromHex("x", 64, hex).Bytes, 0xc3]);
        for (int r = 0; r < 16; r++)
            if (r != 4) m.Cpu.Gpr[r] = 0x1111_0000UL * (ulong)(r + 1) + 0x35;
        m.Cpu.Rdi = Frame1 + 0x10;
        m.Cpu.Rsi = Frame0 + 0x10;
        m.Cpu.Rcx = 3;
        m.Cpu.Rflags = Flags.Reserved | Flags.CF | Flags.OF | Flags.PF;
        m.Write(Frame1 + 0x10, 0x0123_4567_89ab_cdef);
        m.Protect(Frame1);
        var result = m.Call(entry);

        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        Assert.Equal(Frame1 + 0x10, result.Fault.Address);
        Assert.Equal(size, result.Fault.Size);
        Assert.Equal(0x0123_4567_89ab_cdefUL, m.Read(Frame1 + 0x10));
        for (int r = 0; r < 16; r++)
        {
            ulong want = r switch
            {
                1 => 3, 4 => Machine.StackTop - 8, 6 => Frame0 + 0x10, 7 => Frame1 + 0x10,
                _ => 0x1111_0000UL * (ulong)(r + 1) + 0x35,
            };
            Assert.True(want == m.Cpu.Gpr[r], $"register {r} is 0x{m.Cpu.Gpr[r]:x}, was 0x{want:x}");
        }
        Assert.Equal(Flags.Reserved | Flags.CF | Flags.OF | Flags.PF, m.Cpu.Rflags);
        Assert.Equal(entry, m.Cpu.Rip);
    }

    [Fact]
    public void A_push_into_a_protected_stack_frame_faults_and_leaves_rsp()
    {
        var m = new Machine();
        ulong entry = m.Load(a => { a.push(rbx); a.pop(rbx); a.ret(); });
        m.Cpu.Rsp = Frame1 + 8; // the sentinel lands at Frame1, the push below it in Frame0
        m.Protect(Frame0);
        m.Cpu.Rbx = 77;
        var result = m.Call(entry);
        Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        Assert.Equal(Frame1 - 8, result.Fault.Address);
        Assert.Equal(77UL, result.Fault.Value);
        Assert.Equal(Frame1, m.Cpu.Rsp);
        m.Unprotect(Frame0);
        Assert.True(m.Interpreter.Run().IsCompleted);
        Assert.Equal(Frame1 + 8, m.Cpu.Rsp);
    }

    [Fact]
    public void The_gate_is_asked_only_for_writes()
    {
        var m = new Machine();
        ulong entry = m.Load(a => { a.mov(rax, __qword_ptr[rdi]); a.add(rax, 1); a.ret(); });
        m.Protect(Frame1);
        var result = m.Call(entry, Frame1);
        Assert.True(result.IsCompleted);
        Assert.Equal(0, m.Gate.Queries);
    }

    [Fact]
    public void Writes_with_no_gate_always_succeed()
    {
        var memory = new GuestMemory(1 << 20);
        var cpu = new GuestCpu(64) { Rsp = Machine.StackTop };
        var it = new Interpreter(cpu, memory);
        memory.WriteBytes(Machine.CodeBase, Asm.Build(64, a => { a.mov(__qword_ptr[rdi], rsi); a.ret(); }));
        Assert.True(it.Call(Machine.CodeBase, [Frame1, 42]).IsCompleted);
        Assert.Equal(42UL, memory.Read(Frame1, 8));
        Assert.Null(it.Gate);
        it.Gate = new FrameGate(Frame1 >> 12);
        Assert.Equal(ExecutionStatus.WriteFault, it.Call(Machine.CodeBase, [Frame1, 43]).Status);
    }

    [Fact]
    public void PeekInstruction_returns_the_instruction_at_rip()
    {
        var m = new Machine();
        ulong entry = m.Load(a => { a.@lock.and(__byte_ptr[rdi], 0xfd); a.ret(); });
        m.Cpu.Rip = entry;
        var ins = m.Interpreter.PeekInstruction();
        Assert.Equal(Mnemonic.And, ins.Mnemonic);
        Assert.Equal(entry, ins.IP);
        Assert.True(InstructionClass.Of(ins).IsPageTableWriting);
    }

    [Fact]
    public void Retired_counts_instructions_and_a_rep_string_once()
    {
        var m = new Machine();
        ulong entry = m.Load(a => { a.mov(ecx, 100); a.xor(eax, eax); a.rep.stosb(); a.ret(); });
        var result = m.Call(entry, Frame0);
        Assert.True(result.IsCompleted);
        Assert.Equal(4, result.Instructions);
        Assert.Equal(4, m.Interpreter.Retired);
    }

    // ---- errors ----

    [Theory]
    [InlineData("0f a2", "cpuid")]
    [InlineData("0f 32", "rdmsr")]
    [InlineData("0f 28 c1", "movaps")]
    [InlineData("66 0f fe c1", "paddd")]
    [InlineData("0f 0b", "ud2")]
    [InlineData("f4", "hlt")]
    [InlineData("0f 01 f8", "swapgs")]
    [InlineData("0f 22 d8", "cr3")]
    [InlineData("f3 a6", "cmpsb")]
    [InlineData("ff 2f", "jmp")]           // jmp far [rdi]
    [InlineData("ff 1f", "call")]          // call far [rdi]
    [InlineData("48 0f c7 0f", "cmpxchg16b")]
    public void Unsupported_instruction_names_text_bytes_and_address(string hex, string text)
    {
        var m = new Machine();
        var bytes = GuestRoutine.FromHex("x", 64, hex).Bytes;
        ulong at = 0x1234;
        m.Load(bytes, at);
        m.Cpu.Rip = at;
        var result = m.Interpreter.Run();
        Assert.Equal(ExecutionStatus.Error, result.Status);
        var e = result.Error!;
        Assert.Equal("unsupported", e.Kind);
        Assert.Contains(text, e.Message);
        Assert.Contains(hex, e.Message);
        Assert.Contains("0x1234", e.Message);
        Assert.Equal(at, e.Rip);
        Assert.Equal(hex, e.Bytes);
        Assert.Contains(text, e.InstructionText);
        Assert.Equal(at, m.Cpu.Rip);
        Assert.Equal(e.Message, e.ToString());

        // The emulator reports the same.
        Assert.False(m.Interpreter.EmulateOne(new RecordingSink(), 1, out var emulated));
        Assert.NotNull(emulated);
        Assert.Contains(text, emulated.Message);
    }

    [Theory]
    [InlineData(64, "06")]          // push es: invalid in 64-bit mode
    [InlineData(64, "0f 04")]
    [InlineData(32, "0f 04")]
    [InlineData(64, "f0 90")]       // lock nop
    public void Invalid_encoding_names_its_bytes_and_address(int bitness, string hex)
    {
        var m = new Machine(bitness);
        var bytes = GuestRoutine.FromHex("x", bitness, hex).Bytes;
        m.Load(bytes.Concat(new byte[] { 0xc3, 0xc3 }).ToArray(), 0x2abc);
        m.Cpu.Rip = 0x2abc;
        var result = m.Interpreter.Run();
        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Equal("invalid-encoding", result.Error!.Kind);
        Assert.Contains("0x2abc", result.Error.Message);
        Assert.Contains(hex, result.Error.Message);
    }

    [Fact]
    public void Instruction_running_past_the_end_of_memory_is_an_error()
    {
        var m = new Machine(64, 0x2000);
        m.Load([0x48, 0xb8, 0x01, 0x02], 0x2000 - 4); // mov rax, imm64 cut short
        m.Cpu.Rip = 0x2000 - 4;
        var result = m.Interpreter.Run();
        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Contains("past the end", result.Error!.Message);
        Assert.Contains("0x1ffc", result.Error.Message);
    }

    [Fact]
    public void Jumping_outside_memory_is_a_fetch_error()
    {
        var m = new Machine();
        ulong entry = m.Load(a => { a.mov(rax, 0x7000_0000L); a.jmp(rax); });
        var result = m.Call(entry);
        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Equal("bad-fetch", result.Error!.Kind);
        Assert.Contains("0x70000000", result.Error.Message);
    }

    [Fact]
    public void Access_outside_memory_names_the_instruction()
    {
        var m = new Machine();
        ulong entry = m.Load(a => { a.mov(rax, __qword_ptr[rdi]); a.ret(); });
        var result = m.Call(entry, 0x8000_0000);
        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Equal("bad-access", result.Error!.Kind);
        Assert.Contains("0x80000000", result.Error.Message);
        Assert.Contains("mov rax,[rdi]", result.Error.Message);
        Assert.Contains($"0x{entry:x}", result.Error.Message);
        Assert.Contains("48 8b 07", result.Error.Message);
    }

    [Fact]
    public void A_write_outside_memory_is_an_error_not_a_fault()
    {
        var m = new Machine();
        ulong entry = m.Load(a => { a.mov(__qword_ptr[rdi], rax); a.ret(); });
        var result = m.Call(entry, Machine.MemorySize - 4);
        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Equal("bad-access", result.Error!.Kind);
    }

    [Theory]
    [InlineData(64, 0UL)]
    [InlineData(64, 0x8000_0000UL)]
    [InlineData(32, 2UL)]
    public void A_call_with_the_stack_outside_memory_is_an_error(int bitness, ulong rsp)
    {
        var m = new Machine(bitness);
        ulong entry = m.Load([0xc3]);
        m.Cpu.Rsp = rsp;
        var result = m.Call(entry);
        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Equal("bad-access", result.Error!.Kind);
        Assert.Contains($"0x{rsp:x}", result.Error.Message);
        Assert.Contains($"0x{entry:x}", result.Error.Message);
        Assert.Equal(rsp, m.Cpu.Rsp);
    }

    [Fact]
    public void Budget_exhaustion_is_an_error()
    {
        var m = new Machine();
        ulong entry = m.Load(a => { var l = a.CreateLabel(); a.Label(ref l); a.inc(rax); a.jmp(l); });
        var result = m.Interpreter.Call(entry, [], budget: 1000);
        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Equal("budget", result.Error!.Kind);
        Assert.Equal(1000, result.Instructions);
        Assert.Equal(500UL, m.Cpu.Rax);
    }

    [Theory]
    [InlineData(0L, 1L, 0L)]                                  // divide by zero
    [InlineData(1L, 0L, 1L)]                                  // quotient does not fit (unsigned)
    public void Div_raises_divide_error(long rdx, long rax, long divisor)
    {
        var m = new Machine();
        ulong entry = m.Load(a => { a.div(rcx); a.ret(); });
        m.Cpu.Rdx = (ulong)rdx;
        m.Cpu.Rax = (ulong)rax;
        m.Cpu.Rcx = (ulong)divisor;
        var result = m.Call(entry);
        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Equal("divide-error", result.Error!.Kind);
        Assert.Contains("div rcx", result.Error.Message);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    [InlineData(2)]
    [InlineData(1)]
    public void Idiv_of_the_most_negative_dividend_by_minus_one_is_a_divide_error(int size)
    {
        var m = new Machine();
        ulong entry = m.Load(a =>
        {
            switch (size)
            {
                case 8: a.idiv(rcx); break;
                case 4: a.idiv(ecx); break;
                case 2: a.idiv(cx); break;
                default: a.idiv(cl); break;
            }
            a.ret();
        });
        // Dividend = -2^(2*bits-1): high half 0x80.., low half 0.
        switch (size)
        {
            case 8: m.Cpu.Rdx = 0x8000_0000_0000_0000; m.Cpu.Rax = 0; break;
            case 4: m.Cpu.Rdx = 0x8000_0000; m.Cpu.Rax = 0; break;
            case 2: m.Cpu.Rdx = 0x8000; m.Cpu.Rax = 0; break;
            default: m.Cpu.Rax = 0x8000; break;
        }
        m.Cpu.Rcx = ulong.MaxValue;
        var result = m.Call(entry);
        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Equal("divide-error", result.Error!.Kind);
    }

    [Fact]
    public void Code_cache_and_cpu_must_agree_on_the_mode()
    {
        var memory = new GuestMemory(0x10000);
        Assert.Throws<ArgumentException>(() => new Interpreter(new GuestCpu(64), memory, null, new DecodedCodeCache(memory, 32)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GuestCpu(16));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GuestMemory(100));
    }

    [Fact]
    public void Code_cache_decodes_once_and_invalidate_drops_a_page()
    {
        var m = new Machine();
        ulong entry = m.Load(a => { a.add(rax, 1); a.ret(); });
        for (int i = 0; i < 10; i++) Assert.True(m.Call(entry).IsCompleted);
        Assert.Equal(2, m.Interpreter.Code.DecodedCount);
        Assert.Equal(10UL, m.Cpu.Rax);
        m.Load(a => { a.add(rax, 100); a.ret(); });
        m.Interpreter.Code.Invalidate(entry >> 12);
        Assert.True(m.Call(entry).IsCompleted);
        Assert.Equal(110UL, m.Cpu.Rax);
        Assert.Equal(4, m.Interpreter.Code.DecodedCount);
    }

    private static IEnumerable<ulong> Chunks(byte[] bytes)
    {
        for (int i = 0; i + 8 <= bytes.Length; i += 8) yield return BitConverter.ToUInt64(bytes, i);
    }
}
