using Farm.Simulation.GuestCode;
using Farm.Simulation.X86;
using Iced.Intel;
using Xunit;

namespace Farm.Simulation.Tests.X86;

/// <summary>Every routine of every built-in flavour, run on a buffer, has its memory effect.</summary>
public sealed class RoutineLibraryTests
{
    private const ulong PageA = Machine.DataBase;          // 0x20000
    private const ulong PageB = Machine.DataBase + 0x2000; // 0x22000, a gap page between
    private const byte Poison = 0xcc;

    public static TheoryData<string, KernelOp> AllRoutines()
    {
        var data = new TheoryData<string, KernelOp>();
        foreach (var name in GuestFlavour.BuiltInNames)
            foreach (var op in Enum.GetValues<KernelOp>())
                data.Add(name, op);
        return data;
    }

    public static TheoryData<string, int, int> MemsetCases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var name in GuestFlavour.BuiltInNames)
            foreach (int count in new[] { 0, 1, 3, 7, 9, 15, 17, 255, 4095, 4097, 8191 })
                foreach (int misalign in new[] { 0, 3 })
                    data.Add(name, count, misalign);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllRoutines))]
    public void Routine_has_its_memory_effect(string flavourName, KernelOp op)
    {
        var flavour = GuestFlavour.BuiltIn(flavourName);
        var m = new Machine(flavour.Bitness);
        var image = new RoutineImage(flavour, m.Memory, Machine.CodeBase);
        ulong entry = image.EntryOf(op);
        int pte = flavour.PteSize;
        ulong pteValue = pte == 8 ? 0x8000_0001_2345_6067UL : 0x1234_5067UL;
        ulong ptep = PageA + 0x18;

        // Poison a wide area so stray writes show; put a pattern in page A.
        m.Memory.WriteBytes(PageA - 0x1000, Enumerable.Repeat(Poison, 0x5000).ToArray());
        var pattern = Enumerable.Range(0, GuestMemory.PageSize).Select(i => (byte)(i * 7 + 3)).ToArray();
        m.Memory.WriteBytes(PageA, pattern);
        if (op is KernelOp.PtepSetWrprotect or KernelOp.PtepGetAndClear or KernelOp.PteClear)
            m.Write(ptep, pteValue, pte);

        // Callee-saved registers the routine must preserve (i386: ebx, esi, edi, ebp).
        m.Cpu.Rbx = 0x1111_2222; m.Cpu.Rbp = 0x3333_4444;
        if (flavour.Bitness == 32) { m.Cpu.Rsi = 0x5555_6666; m.Cpu.Rdi = 0x7777_8888; }
        var before = m.ReadBytes(PageA - 0x1000, 0x5000);

        // A pte value is one argument, or on a 32-bit PAE flavour two (low half, high half).
        var valueArgs = new ulong[2];
        ulong[] valueAt = [ptep, .. valueArgs.AsSpan(0, flavour.PteValueArgs(pteValue, valueArgs))];
        ulong[] args = op switch
        {
            KernelOp.ClearPage => [PageA],
            KernelOp.SetPte or KernelOp.SetPmd => valueAt,
            KernelOp.PtepSetWrprotect or KernelOp.PtepGetAndClear or KernelOp.PteClear => [ptep],
            KernelOp.CopyPage => [PageB, PageA],
            KernelOp.Memset => [PageA + 5, 0x5a, 4097 + 3],
            KernelOp.Memcpy => [PageB + 0x880, PageA + 0x880, 0x780 - 5], // pgd_ctor's kernel half, plus an odd tail
            _ => throw new ArgumentOutOfRangeException(nameof(op)),
        };
        var result = m.Call(entry, args);
        Assert.True(result.IsCompleted, Machine.Describe(result));
        Assert.Equal(Machine.StackTop, m.Cpu.Rsp);
        Assert.Equal(0x1111_2222UL, m.Cpu.Rbx);
        Assert.Equal(0x3333_4444UL, m.Cpu.Rbp);
        if (flavour.Bitness == 32)
        {
            Assert.Equal(0x5555_6666UL, m.Cpu.Rsi);
            Assert.Equal(0x7777_8888UL, m.Cpu.Rdi);
        }

        var expected = (byte[])before.Clone();
        int Off(ulong address) => (int)(address - (PageA - 0x1000));
        void Put(ulong address, ulong value, int size)
        {
            for (int i = 0; i < size; i++) expected[Off(address) + i] = (byte)(value >> (8 * i));
        }
        switch (op)
        {
            case KernelOp.ClearPage:
                Array.Clear(expected, Off(PageA), GuestMemory.PageSize);
                break;
            case KernelOp.SetPte:
            case KernelOp.SetPmd:
                Put(ptep, pteValue, pte);
                break;
            case KernelOp.PtepSetWrprotect:
                Put(ptep, pteValue & ~2UL, pte); // bit 1 (_PAGE_RW) only
                break;
            case KernelOp.PtepGetAndClear:
                // The old pte comes back in RAX, or in EDX:EAX from a 32-bit PAE flavour.
                ulong old = flavour.Bitness == 32 && pte == 8 ? (m.Cpu.Rdx << 32) | (uint)m.Cpu.Rax : m.Cpu.Rax & (pte == 8 ? ulong.MaxValue : 0xffff_ffffUL);
                Assert.Equal(pteValue, old);
                Put(ptep, 0, pte);
                break;
            case KernelOp.PteClear:
                Put(ptep, 0, pte);
                break;
            case KernelOp.CopyPage:
                pattern.CopyTo(expected, Off(PageB));
                break;
            case KernelOp.Memset:
                Array.Fill(expected, (byte)0x5a, Off(PageA + 5), 4097 + 3);
                break;
            case KernelOp.Memcpy:
                Array.Copy(pattern, 0x880, expected, Off(PageB + 0x880), 0x780 - 5);
                break;
        }
        Assert.Equal(expected, m.ReadBytes(PageA - 0x1000, 0x5000));
        Assert.Equal(Machine.StackTop, m.Cpu.Rsp);
    }

    [Theory]
    [MemberData(nameof(MemsetCases))]
    public void Memset_fills_odd_counts_exactly(string flavourName, int count, int misalign)
    {
        var flavour = GuestFlavour.BuiltIn(flavourName);
        var m = new Machine(flavour.Bitness);
        var image = new RoutineImage(flavour, m.Memory, Machine.CodeBase);
        m.Memory.WriteBytes(PageA - 16, Enumerable.Repeat(Poison, 0x3000).ToArray());
        ulong ptr = PageA + (ulong)misalign;
        // Garbage above the low byte of the fill argument must be ignored.
        var result = m.Call(image.EntryOf(KernelOp.Memset), ptr, 0xdead_be00UL | 0xa5, (ulong)count);
        Assert.True(result.IsCompleted, Machine.Describe(result));

        var bytes = m.ReadBytes(PageA - 16, 0x3000);
        int start = 16 + misalign;
        for (int i = 0; i < bytes.Length; i++)
        {
            byte want = i >= start && i < start + count ? (byte)0xa5 : Poison;
            if (bytes[i] != want)
                Assert.Fail($"byte {i - start} (relative to ptr) is 0x{bytes[i]:x2}, expected 0x{want:x2} (count {count})");
        }
        if (flavour.Bitness == 64) Assert.Equal(ptr, m.Cpu.Rax); // memset returns its pointer
        Assert.Equal(0UL, m.Cpu.Rcx);
    }

    [Theory]
    [InlineData("linux-3.x", 0x8000_0000_0000_0067UL)]
    [InlineData("linux-3.x", 0x65UL)]
    [InlineData("recent", 0x8000_0000_0000_0067UL)]
    [InlineData("recent", 0xffff_ffff_ffff_ffffUL)]
    [InlineData("recent", 0UL)]
    [InlineData("linux-3.x-i386", 0xffff_ffffUL)]
    [InlineData("linux-3.x-pae", 0x8000_0001_2345_6067UL)]
    public void Wrprotect_clears_only_the_rw_bit(string flavourName, ulong pte)
    {
        var flavour = GuestFlavour.BuiltIn(flavourName);
        var m = new Machine(flavour.Bitness);
        var image = new RoutineImage(flavour, m.Memory, Machine.CodeBase);
        m.Write(PageA, pte, flavour.PteSize);
        m.Write(PageA + (ulong)flavour.PteSize, 0x77, 1);
        var result = m.Call(image.EntryOf(KernelOp.PtepSetWrprotect), PageA);
        Assert.True(result.IsCompleted, Machine.Describe(result));
        Assert.Equal(pte & ~2UL, m.Read(PageA, flavour.PteSize));
        Assert.Equal(0x77UL, m.Read(PageA + (ulong)flavour.PteSize, 1));
    }

    [Theory]
    [InlineData("linux-3.x", Mnemonic.Stosq, true)]
    [InlineData("linux-3.x-erms", Mnemonic.Stosb, true)]
    [InlineData("recent", Mnemonic.Stosb, true)]
    [InlineData("linux-3.x-i386", Mnemonic.Stosd, true)]
    [InlineData("linux-3.x-pae", Mnemonic.Stosd, true)]
    public void Clear_page_uses_the_flavours_string_instruction(string flavourName, Mnemonic mnemonic, bool rep)
    {
        var flavour = GuestFlavour.BuiltIn(flavourName);
        var instructions = Decode(flavour.Routines[KernelOp.ClearPage]);
        Assert.Contains(instructions, i => i.Mnemonic == mnemonic && i.HasRepPrefix == rep);
    }

    [Theory]
    [InlineData("linux-3.x", Mnemonic.And)]
    [InlineData("linux-3.x-erms", Mnemonic.And)]
    [InlineData("recent", Mnemonic.Cmpxchg)]
    [InlineData("linux-3.x-i386", Mnemonic.And)]
    [InlineData("linux-3.x-pae", Mnemonic.And)]
    public void Wrprotect_is_a_locked_page_table_write(string flavourName, Mnemonic mnemonic)
    {
        var instructions = Decode(GuestFlavour.BuiltIn(flavourName).Routines[KernelOp.PtepSetWrprotect]);
        var write = Assert.Single(instructions, i => i.Mnemonic == mnemonic && i.Op0Kind == OpKind.Memory);
        var cls = InstructionClass.Of(write);
        Assert.True(cls.IsPageTableWriting);
        Assert.True(cls.IsLock);
    }

    [Fact]
    public void Every_builtin_flavour_has_every_operation()
    {
        foreach (var name in GuestFlavour.BuiltInNames)
        {
            var flavour = GuestFlavour.BuiltIn(name);
            Assert.Equal(name, flavour.Name);
            foreach (var op in Enum.GetValues<KernelOp>())
            {
                Assert.True(flavour.Routines.ContainsKey(op), $"{name} lacks {op}");
                Assert.Equal(flavour.Bitness, flavour.Routines[op].Bitness);
                Assert.Equal(0xc3, flavour.Routines[op].Bytes[^1]);
            }
        }
        Assert.Throws<ArgumentException>(() => GuestFlavour.BuiltIn("linux-2.4"));
    }

    [Fact]
    public void RoutineImage_lays_out_routines_16_byte_aligned_and_disjoint()
    {
        var flavour = GuestFlavour.BuiltIn("linux-3.x");
        var memory = new GuestMemory(1 << 16);
        var image = new RoutineImage(flavour, memory, 0x1000);
        var entries = Enum.GetValues<KernelOp>().Select(op => (op, at: image.EntryOf(op))).OrderBy(e => e.at).ToList();
        for (int i = 0; i < entries.Count; i++)
        {
            Assert.Equal(0UL, entries[i].at & 15);
            ulong end = entries[i].at + (ulong)flavour.Routines[entries[i].op].Bytes.Length;
            Assert.True(end <= (i + 1 < entries.Count ? entries[i + 1].at : image.End));
            var bytes = new byte[flavour.Routines[entries[i].op].Bytes.Length];
            memory.ReadBytes(entries[i].at, bytes);
            Assert.Equal(flavour.Routines[entries[i].op].Bytes, bytes);
        }
    }

    [Fact]
    public void Custom_hex_routine_overrides_a_flavour_routine()
    {
        // mov ecx, 512; xor eax, eax; rep stosq; ret
        var custom = GuestRoutine.FromHex("clear_page_custom", 64, "b9 00 02 00 00 31 c0 f3 48 ab c3");
        var flavour = GuestFlavour.BuiltIn("linux-3.x").With(new Dictionary<KernelOp, GuestRoutine> { [KernelOp.ClearPage] = custom });
        Assert.Equal("linux-3.x+custom", flavour.Name);
        Assert.Same(custom, flavour.Routines[KernelOp.ClearPage]);
        Assert.Equal(GuestFlavour.BuiltIn("linux-3.x").Routines[KernelOp.SetPte].Bytes, flavour.Routines[KernelOp.SetPte].Bytes);

        var m = new Machine();
        var image = new RoutineImage(flavour, m.Memory, Machine.CodeBase);
        m.Memory.WriteBytes(PageA, Enumerable.Repeat((byte)0xee, GuestMemory.PageSize).ToArray());
        var result = m.Call(image.EntryOf(KernelOp.ClearPage), PageA);
        Assert.True(result.IsCompleted, Machine.Describe(result));
        Assert.All(m.ReadBytes(PageA, GuestMemory.PageSize), b => Assert.Equal(0, b));

        var wrongMode = GuestRoutine.FromHex("x", 32, "c3");
        Assert.Throws<ArgumentException>(() => flavour.With(new Dictionary<KernelOp, GuestRoutine> { [KernelOp.SetPte] = wrongMode }));
    }

    [Theory]
    [InlineData("f3 48 ab c3", new byte[] { 0xf3, 0x48, 0xab, 0xc3 })]
    [InlineData("f348abc3", new byte[] { 0xf3, 0x48, 0xab, 0xc3 })]
    [InlineData("0xf3,0x48,0xab,0xc3", new byte[] { 0xf3, 0x48, 0xab, 0xc3 })]
    [InlineData("0x0,0xc3", new byte[] { 0x00, 0xc3 })]
    public void FromHex_accepts_common_spellings(string hex, byte[] expected) =>
        Assert.Equal(expected, GuestRoutine.FromHex("r", 64, hex).Bytes);

    [Theory]
    [InlineData("", "no bytes")]
    [InlineData("f3 4", "odd number")]
    [InlineData("f3 zz", "'zz' at byte 1")]
    public void FromHex_names_what_is_wrong(string hex, string fragment)
    {
        var e = Assert.Throws<FormatException>(() => GuestRoutine.FromHex("bad", 64, hex));
        Assert.Contains(fragment, e.Message);
        Assert.Contains("'bad'", e.Message);
    }

    private static List<Instruction> Decode(GuestRoutine routine)
    {
        var decoder = Decoder.Create(routine.Bitness, new ByteArrayCodeReader(routine.Bytes));
        var list = new List<Instruction>();
        while (decoder.IP < (ulong)routine.Bytes.Length) list.Add(decoder.Decode());
        return list;
    }
}
