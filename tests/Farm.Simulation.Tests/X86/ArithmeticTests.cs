using Farm.Simulation.X86;
using Iced.Intel;
using Xunit;
using static Farm.Simulation.X86.Flags;
using static Iced.Intel.AssemblerRegisters;

namespace Farm.Simulation.Tests.X86;

/// <summary>Hand-assembled sequences: flags, conditional branches, carries, widths, stack.</summary>
public sealed class ArithmeticTests
{
    private const ulong Data = Machine.DataBase;
    private const ulong Checked = CF | ZF | SF | OF | PF;

    // ---- flags and conditions ----

    private static readonly Dictionary<string, Action<Assembler>> Setups = new()
    {
        ["cmp 5,7"] = a => { a.mov(rax, 5); a.cmp(rax, 7); },
        ["cmp -1,1"] = a => { a.mov(rax, -1); a.cmp(rax, 1); },
        ["cmp 7,7"] = a => { a.mov(rax, 7); a.cmp(rax, 7); },
        ["sub min,1"] = a => { a.mov(rax, long.MinValue); a.sub(rax, 1); },
        ["sub 0,1"] = a => { a.xor(eax, eax); a.sub(rax, 1); },
        ["add max,1"] = a => { a.mov(rax, long.MaxValue); a.add(rax, 1); },
        ["add -1,1"] = a => { a.mov(rax, -1); a.add(rax, 1); },
        ["add32 wraps"] = a => { a.mov(eax, -1); a.add(eax, 2); },
        ["add16 overflow"] = a => { a.mov(ax, 0x7fff); a.add(ax, 1); },
        ["add ah carry"] = a => { a.mov(eax, 0xff00); a.add(ah, 1); },
        ["cmp al -128,1"] = a => { a.mov(eax, 0x80); a.cmp(al, 1); },
        ["shl msb out"] = a => { a.mov(rax, long.MinValue | 1); a.shl(rax, 1); },
        ["shl32 into sign"] = a => { a.mov(eax, 0x4000_0000); a.shl(eax, 1); },
        ["shr lsb out"] = a => { a.mov(eax, 3); a.shr(rax, 1); },
        ["shr by cl"] = a => { a.mov(rax, 0x4000_0000_0000_0180); a.mov(ecx, 8); a.shr(rax, cl); },
        ["sar negative"] = a => { a.mov(rax, -4); a.sar(rax, 1); },
        ["sar to -1"] = a => { a.mov(rax, -3); a.mov(cl, 70); a.sar(rax, cl); }, // count masked to 6
        ["test zero"] = a => { a.xor(eax, eax); a.test(eax, eax); },
        ["and all ones"] = a => { a.mov(rax, -1); a.and(rax, rax); },
        ["or byte"] = a => { a.mov(eax, 0x80); a.or(al, 1); },
        ["neg 5"] = a => { a.mov(rax, 5); a.neg(rax); },
        ["neg 0"] = a => { a.xor(eax, eax); a.neg(rax); },
        ["inc keeps CF"] = a => { a.xor(eax, eax); a.sub(rax, 1); a.mov(rbx, long.MaxValue); a.inc(rbx); },
        ["dec to zero"] = a => { a.xor(eax, eax); a.mov(ecx, 1); a.dec(ecx); },
        ["rol"] = a => { a.xor(edx, edx); a.mov(eax, unchecked((int)0x8000_0001)); a.rol(eax, 1); },
        ["ror"] = a => { a.xor(edx, edx); a.mov(eax, 1); a.ror(eax, 1); },
        ["sbb borrow in"] = a => { a.xor(eax, eax); a.sub(rax, 1); a.mov(ebx, 5); a.sbb(rbx, 5); },
        ["adc carry in"] = a => { a.mov(rax, -1); a.add(rax, 1); a.mov(ebx, 0); a.adc(rbx, 0); },
    };

    [Theory]
    [InlineData("cmp 5,7", CF | SF)]
    [InlineData("cmp -1,1", SF)]
    [InlineData("cmp 7,7", ZF | PF)]
    [InlineData("sub min,1", OF | PF)]
    [InlineData("sub 0,1", CF | SF | PF)]
    [InlineData("add max,1", OF | SF | PF)]
    [InlineData("add -1,1", CF | ZF | PF)]
    [InlineData("add32 wraps", CF)]
    [InlineData("add16 overflow", OF | SF | PF)]
    [InlineData("add ah carry", CF | ZF | PF)]
    [InlineData("cmp al -128,1", OF)]
    [InlineData("shl msb out", CF | OF)]
    [InlineData("shl32 into sign", SF | OF | PF)]
    [InlineData("shr lsb out", CF)]
    [InlineData("shr by cl", CF)]
    [InlineData("sar negative", SF)]
    [InlineData("sar to -1", CF | SF | PF)]
    [InlineData("test zero", ZF | PF)]
    [InlineData("and all ones", SF | PF)]
    [InlineData("or byte", SF | PF)]
    [InlineData("neg 5", CF | SF)]
    [InlineData("neg 0", ZF | PF)]
    [InlineData("inc keeps CF", CF | OF | SF | PF)]
    [InlineData("dec to zero", ZF | PF)]
    [InlineData("rol", CF | OF | ZF | PF)]
    [InlineData("ror", CF | OF | ZF | PF)]
    [InlineData("sbb borrow in", CF | SF | PF)]
    [InlineData("adc carry in", 0UL)]
    public void Flags_and_every_condition_agree(string setup, ulong expectedFlags)
    {
        var m = new Machine();
        m.Run(a => { Setups[setup](a); a.ret(); });
        Assert.Equal(Describe(expectedFlags), Describe(m.Cpu.Rflags & Checked));

        foreach (var cc in Conditions)
        {
            bool want = Holds(cc.Name, expectedFlags);
            // jcc
            var j = new Machine();
            j.Run(a =>
            {
                var taken = a.CreateLabel();
                Setups[setup](a);
                cc.Jump(a, taken);
                a.mov(esi, 0);
                a.ret();
                a.Label(ref taken);
                a.mov(esi, 1);
                a.ret();
            });
            Assert.True(want == (j.Cpu.Rsi == 1), $"j{cc.Name} after '{setup}': expected {(want ? "taken" : "not taken")}");
            // setcc
            var s = new Machine();
            s.Cpu.Rsi = 0xffff_ffff_ffff_ff55;
            s.Run(a => { Setups[setup](a); cc.Set(a); a.ret(); });
            Assert.True((want ? 0xffff_ffff_ffff_ff01UL : 0xffff_ffff_ffff_ff00UL) == s.Cpu.Rsi, $"set{cc.Name} after '{setup}'");
            // cmovcc (32-bit: zero-extends even when not taken)
            var c = new Machine();
            c.Cpu.Rsi = 0xaaaa_aaaa_0000_0001;
            c.Cpu.SetGpr(8, 0xbbbb_bbbb_0000_0002);
            c.Run(a => { Setups[setup](a); cc.Cmov(a); a.ret(); });
            Assert.True((want ? 2UL : 1UL) == c.Cpu.Rsi, $"cmov{cc.Name} after '{setup}': rsi=0x{c.Cpu.Rsi:x}");
        }
    }

    [Theory]
    [InlineData(9L, 8L, true)]     // 0x9 + 0x8 carries out of bit 3
    [InlineData(8L, 8L, true)]
    [InlineData(1L, 2L, false)]
    [InlineData(0x10L, 0x10L, false)]
    public void Auxiliary_carry_follows_bit_3(long x, long y, bool addAf)
    {
        var m = new Machine();
        m.Run(a => { a.mov(rax, x); a.add(rax, (int)y); a.ret(); });
        Assert.Equal(addAf, m.Flag(AF));
        m.Run(a => { a.mov(rax, 0x10); a.sub(rax, 1); a.ret(); });
        Assert.True(m.Flag(AF));
    }

    // ---- carry chains ----

    [Fact]
    public void Adc_chain_adds_192_bit_numbers()
    {
        var m = new Machine();
        // (r10:r9:r8) += (r13:r12:r11)
        m.Cpu.SetGpr(8, ulong.MaxValue); m.Cpu.SetGpr(9, ulong.MaxValue); m.Cpu.SetGpr(10, 5);
        m.Cpu.SetGpr(11, 1); m.Cpu.SetGpr(12, 0); m.Cpu.SetGpr(13, 7);
        m.Run(a => { a.add(r8, r11); a.adc(r9, r12); a.adc(r10, r13); a.ret(); });
        Assert.Equal(0UL, m.Cpu.Gpr[8]);
        Assert.Equal(0UL, m.Cpu.Gpr[9]);
        Assert.Equal(13UL, m.Cpu.Gpr[10]);
        Assert.False(m.Flag(CF));
    }

    [Fact]
    public void Sbb_chain_subtracts_192_bit_numbers_and_borrows_out()
    {
        var m = new Machine();
        m.Cpu.SetGpr(8, 0); m.Cpu.SetGpr(9, 0); m.Cpu.SetGpr(10, 0);
        m.Cpu.SetGpr(11, 1); m.Cpu.SetGpr(12, 0); m.Cpu.SetGpr(13, 0);
        m.Run(a => { a.sub(r8, r11); a.sbb(r9, r12); a.sbb(r10, r13); a.ret(); });
        Assert.Equal(ulong.MaxValue, m.Cpu.Gpr[8]);
        Assert.Equal(ulong.MaxValue, m.Cpu.Gpr[9]);
        Assert.Equal(ulong.MaxValue, m.Cpu.Gpr[10]);
        Assert.True(m.Flag(CF));
        Assert.True(m.Flag(SF));
    }

    [Fact]
    public void Adc_with_carry_in_and_max_operand_carries_out()
    {
        var m = new Machine();
        // CF=1; rax=5; adc rax, -1 => 5 + 0xff..ff + 1 = 5 (carry out)
        m.Run(a => { a.mov(rax, -1); a.add(rax, 1); a.mov(eax, 5); a.mov(rbx, -1); a.adc(rax, rbx); a.ret(); });
        Assert.Equal(5UL, m.Cpu.Rax);
        Assert.True(m.Flag(CF));
        // 8-bit: al = 0xff + 0 + CF(1) = 0, CF=1
        m.Run(a => { a.mov(rcx, -1); a.add(rcx, 1); a.mov(eax, 0x12ff); a.adc(al, 0); a.ret(); });
        Assert.Equal(0x1200UL, m.Cpu.Rax);
        Assert.True(m.Flag(CF));
        Assert.True(m.Flag(ZF));
    }

    // ---- multiply and divide ----

    [Theory]
    [InlineData(3L, 4L, 12L, false)]
    [InlineData(-3L, 4L, -12L, false)]
    [InlineData(0x4000_0000_0000_0000L, 2L, long.MinValue, true)]
    [InlineData(long.MinValue, -1L, long.MinValue, true)]
    [InlineData(0x1_0000_0000L, 0x1_0000_0000L, 0L, true)]
    public void Imul_two_operand_sets_CF_OF_on_signed_overflow(long x, long y, long product, bool overflow)
    {
        var m = new Machine();
        m.Cpu.Rax = (ulong)x; m.Cpu.Rbx = (ulong)y;
        m.Run(a => { a.imul(rax, rbx); a.ret(); });
        Assert.Equal((ulong)product, m.Cpu.Rax);
        Assert.Equal(overflow, m.Flag(CF));
        Assert.Equal(overflow, m.Flag(OF));

        var j = new Machine();
        j.Cpu.Rax = (ulong)x; j.Cpu.Rbx = (ulong)y;
        j.Run(a => { var o = a.CreateLabel(); a.imul(rax, rbx); a.jo(o); a.mov(esi, 0); a.ret(); a.Label(ref o); a.mov(esi, 1); a.ret(); });
        Assert.Equal(overflow ? 1UL : 0UL, j.Cpu.Rsi);
    }

    [Fact]
    public void Imul_forms_and_widths()
    {
        var m = new Machine();
        // three-operand with imm8 (sign-extended) and 32-bit overflow
        m.Run(a => { a.mov(ebx, 0x4000_0000); a.imul(eax, ebx, 2); a.imul(ecx, ebx, -1); a.ret(); });
        Assert.Equal(0x8000_0000UL, m.Cpu.Rax); // zero-extended 32-bit result
        Assert.Equal(0xc000_0000UL, m.Cpu.Rcx);
        Assert.False(m.Flag(OF)); // -0x40000000 fits

        // one-operand signed: rdx:rax = rax * rbx
        m.Cpu.Rax = unchecked((ulong)-3L); m.Cpu.Rbx = 0x4000_0000_0000_0000;
        m.Run(a => { a.imul(rbx); a.ret(); });
        Assert.Equal(0x4000_0000_0000_0000UL, m.Cpu.Rax); // -3 * 2^62 = -0xC000.. : low = 0x4000..
        Assert.Equal(ulong.MaxValue, m.Cpu.Rdx);
        Assert.True(m.Flag(CF) && m.Flag(OF));

        // unsigned widening
        m.Cpu.Rax = ulong.MaxValue; m.Cpu.Rbx = ulong.MaxValue;
        m.Run(a => { a.mul(rbx); a.ret(); });
        Assert.Equal(1UL, m.Cpu.Rax);
        Assert.Equal(ulong.MaxValue - 1, m.Cpu.Rdx);
        Assert.True(m.Flag(CF));

        // 8-bit mul writes AX only
        m.Cpu.Rax = 0xdead_0000_0000_0010; m.Cpu.Rbx = 0x20; m.Cpu.Rdx = 0x77;
        m.Run(a => { a.mul(bl); a.ret(); });
        Assert.Equal(0xdead_0000_0000_0200UL, m.Cpu.Rax);
        Assert.Equal(0x77UL, m.Cpu.Rdx);
        Assert.True(m.Flag(CF));

        // 32-bit one-operand imul: edx:eax, both zero-extended
        m.Cpu.Rax = 0xffff_ffff_ffff_fffe; m.Cpu.Rcx = 3;
        m.Run(a => { a.imul(ecx); a.ret(); });
        Assert.Equal(0xffff_fffaUL, m.Cpu.Rax);
        Assert.Equal(0xffff_ffffUL, m.Cpu.Rdx);
        Assert.False(m.Flag(CF));
    }

    [Fact]
    public void Div_and_idiv_give_quotient_and_remainder()
    {
        var m = new Machine();
        m.Cpu.Rdx = 1; m.Cpu.Rax = 5; m.Cpu.Rcx = 2; // (2^64 + 5) / 2
        m.Run(a => { a.div(rcx); a.ret(); });
        Assert.Equal(0x8000_0000_0000_0002UL, m.Cpu.Rax);
        Assert.Equal(1UL, m.Cpu.Rdx);

        m.Cpu.Rax = unchecked((ulong)-7L); m.Cpu.Rcx = 2;
        m.Run(a => { a.cqo(); a.idiv(rcx); a.ret(); });
        Assert.Equal(unchecked((ulong)-3L), m.Cpu.Rax); // truncates toward zero
        Assert.Equal(ulong.MaxValue, m.Cpu.Rdx);       // remainder -1

        m.Cpu.Rax = 0x1234_5678_0000_0007; m.Cpu.Rcx = 2;
        m.Run(a => { a.cdq(); a.idiv(ecx); a.ret(); });
        Assert.Equal(3UL, m.Cpu.Rax);
        Assert.Equal(1UL, m.Cpu.Rdx);

        m.Cpu.Rax = 0xffff_0000_0000_0107; m.Cpu.Rbx = 0x10; // ax = 0x107 = 263; 263 / 16 = 16 r 7
        m.Run(a => { a.div(bl); a.ret(); });
        Assert.Equal(0xffff_0000_0000_0710UL, m.Cpu.Rax);

        m.Cpu.Rax = 0xfff9; m.Cpu.Rbx = 2; // ax = -7 as 16 bits; idiv bl: al = -3, ah = -1
        m.Run(a => { a.idiv(bl); a.ret(); });
        Assert.Equal(0xfffdUL, m.Cpu.Rax);
    }

    // ---- operand widths ----

    [Fact]
    public void Thirty_two_bit_results_zero_extend_and_narrower_ones_merge()
    {
        var m = new Machine();
        m.Run(a =>
        {
            a.mov(rax, -1); a.mov(eax, 1);            // zero-extends
            a.mov(rbx, -1); a.add(ebx, 1);            // 0, zero-extended
            a.mov(rcx, -1); a.xor(ecx, ecx);
            a.mov(rdx, -1); a.mov(dx, 0);             // merges
            a.mov(rsi, -1); a.mov(sil, 0x12);         // merges
            a.mov(rdi, -1); a.lea(edi, __[rdi + 2]);  // 32-bit lea zero-extends
            a.mov(r8, -1); a.mov(r9d, -1); a.xchg(r8d, r9d);
            a.mov(r10, -1); a.movzx(r10d, r9w);
            a.mov(r11, -1); a.not(r11d);
            a.mov(r12, -1); a.shl(r12d, 4);
            a.ret();
        });
        Assert.Equal(1UL, m.Cpu.Rax);
        Assert.Equal(0UL, m.Cpu.Rbx);
        Assert.Equal(0UL, m.Cpu.Rcx);
        Assert.Equal(0xffff_ffff_ffff_0000UL, m.Cpu.Rdx);
        Assert.Equal(0xffff_ffff_ffff_ff12UL, m.Cpu.Rsi);
        Assert.Equal(1UL, m.Cpu.Rdi);
        Assert.Equal(0xffff_ffffUL, m.Cpu.Gpr[8]);
        Assert.Equal(0xffff_ffffUL, m.Cpu.Gpr[9]);
        Assert.Equal(0xffffUL, m.Cpu.Gpr[10]);
        Assert.Equal(0UL, m.Cpu.Gpr[11]);
        Assert.Equal(0xffff_fff0UL, m.Cpu.Gpr[12]);
    }

    [Fact]
    public void High_byte_registers_read_and_write_bits_8_to_15()
    {
        var m = new Machine();
        m.Cpu.Rax = 0x1122_3344_5566_7788;
        m.Cpu.Rbx = 0x0000_0000_0000_ab00;
        m.Run(a =>
        {
            a.mov(ah, 0xaa);        // rax = ..66aa88
            a.movzx(ecx, bh);       // 0xab
            a.mov(dl, ah);
            a.mov(dh, 0x01);
            a.add(dh, ah);          // 0xab
            a.xchg(al, ah);
            a.ret();
        });
        Assert.Equal(0x1122_3344_5566_88aaUL, m.Cpu.Rax);
        Assert.Equal(0xabUL, m.Cpu.Rcx);
        Assert.Equal(0xabaaUL, m.Cpu.Rdx & 0xffff);
    }

    [Fact]
    public void Sign_and_zero_extension_instructions()
    {
        var m = new Machine();
        m.Cpu.Rsi = 0x80;
        m.Cpu.Rdi = 0x8000_0000;
        m.Run(a =>
        {
            a.movsx(rax, sil);   // -128
            a.movsxd(rbx, edi);  // -2^31
            a.movzx(ecx, si);
            a.mov(edx, 0x8000);
            a.movsx(edx, dx);    // 0xffff8000 (zero-extended into rdx)
            a.mov(r8, 0x80);
            a.ret();
        });
        Assert.Equal(unchecked((ulong)-128L), m.Cpu.Rax);
        Assert.Equal(0xffff_ffff_8000_0000UL, m.Cpu.Rbx);
        Assert.Equal(0x80UL, m.Cpu.Rcx);
        Assert.Equal(0xffff_8000UL, m.Cpu.Rdx);

        m.Cpu.Rax = 0x1234_5678_9abc_de80;
        m.Run(a => { a.cbw(); a.ret(); });
        Assert.Equal(0x1234_5678_9abc_ff80UL, m.Cpu.Rax);
        m.Run(a => { a.cwde(); a.ret(); });
        Assert.Equal(0xffff_ff80UL, m.Cpu.Rax);
        m.Run(a => { a.cdqe(); a.ret(); });
        Assert.Equal(0xffff_ffff_ffff_ff80UL, m.Cpu.Rax);
        m.Cpu.Rdx = 0x5555_5555_5555_5555;
        m.Run(a => { a.cwd(); a.ret(); });
        Assert.Equal(0x5555_5555_5555_ffffUL, m.Cpu.Rdx);
        m.Run(a => { a.cdq(); a.ret(); });
        Assert.Equal(0xffff_ffffUL, m.Cpu.Rdx);
        m.Cpu.Rax = 5;
        m.Run(a => { a.cqo(); a.ret(); });
        Assert.Equal(0UL, m.Cpu.Rdx);
    }

    // ---- shifts and rotates ----

    [Theory]
    [InlineData("shl", 0x1UL, 63, 0x8000_0000_0000_0000UL)]
    [InlineData("shl", 0x1UL, 64, 0x1UL)]   // count masked to 0: unchanged
    [InlineData("shl", 0x1UL, 65, 0x2UL)]
    [InlineData("shr", 0x8000_0000_0000_0000UL, 63, 1UL)]
    [InlineData("sar", 0x8000_0000_0000_0000UL, 63, ulong.MaxValue)]
    [InlineData("rol", 0x8000_0000_0000_0001UL, 4, 0x18UL)]
    [InlineData("ror", 0x8000_0000_0000_0001UL, 4, 0x1800_0000_0000_0000UL)]
    public void Shifts_by_cl_mask_the_count(string op, ulong value, int count, ulong expected)
    {
        var m = new Machine();
        m.Cpu.Rax = value; m.Cpu.Rcx = (ulong)count;
        m.Run(a =>
        {
            switch (op)
            {
                case "shl": a.shl(rax, cl); break;
                case "shr": a.shr(rax, cl); break;
                case "sar": a.sar(rax, cl); break;
                case "rol": a.rol(rax, cl); break;
                default: a.ror(rax, cl); break;
            }
            a.ret();
        });
        Assert.Equal(expected, m.Cpu.Rax);
    }

    [Fact]
    public void Shift_by_zero_leaves_flags_alone()
    {
        var m = new Machine();
        m.Run(a => { a.xor(eax, eax); a.mov(ebx, 5); a.xor(ecx, ecx); a.shl(rbx, cl); a.ret(); });
        Assert.True(m.Flag(ZF));
        Assert.Equal(5UL, m.Cpu.Rbx);
    }

    [Fact]
    public void Byte_and_word_shifts_stay_in_their_width()
    {
        var m = new Machine();
        m.Cpu.Rax = 0xffff_ffff_ffff_ff81; m.Cpu.Rbx = 0x1234_8001;
        m.Run(a => { a.shl(al, 1); a.sar(bx, 1); a.rol(bh, 4); a.ret(); });
        Assert.Equal(0xffff_ffff_ffff_ff02UL, m.Cpu.Rax);
        Assert.Equal(0x1234_0c00UL, m.Cpu.Rbx); // bx = 0xc000 after sar, bh 0xc0 rol 4 = 0x0c
    }

    // ---- bit instructions ----

    [Fact]
    public void Bt_family_with_a_register_offset_addresses_a_bit_string_beyond_the_operand()
    {
        var m = new Machine();
        m.Write(Data + 0x100 - 8, 0);
        m.Cpu.Rdi = Data + 0x100;
        m.Run(a =>
        {
            a.mov(ecx, 100);
            a.bts(__qword_ptr[rdi], rcx);   // byte 12, bit 4
            a.mov(rcx, -1);
            a.bts(__qword_ptr[rdi], rcx);   // the qword below: bit 63
            a.mov(ecx, 33);
            a.bts(__dword_ptr[rdi], ecx);   // dword at +4, bit 1
            a.mov(ecx, 200);
            a.bt(__qword_ptr[rdi], rcx);    // byte 25 bit 0: clear
            a.ret();
        });
        Assert.Equal(0x10UL, m.Read(Data + 0x100 + 12, 1));
        Assert.Equal(0x8000_0000_0000_0000UL, m.Read(Data + 0x100 - 8));
        Assert.Equal(0x2UL, m.Read(Data + 0x104, 1));
        Assert.False(m.Flag(CF));

        m.Run(a =>
        {
            a.mov(ecx, 100);
            a.bt(__qword_ptr[rdi], rcx);    // set above: CF=1
            a.setc(bl);
            a.btr(__qword_ptr[rdi], rcx);
            a.btc(__qword_ptr[rdi], rcx);
            a.btc(__qword_ptr[rdi], rcx);   // set, then cleared again: CF=1 (was set)
            a.setc(bh);
            a.bt(__qword_ptr[rdi], 65);     // immediate offset: masked to bit 1 of the qword itself
            a.setc(dl);
            a.ret();
        });
        Assert.Equal(1UL, m.Cpu.Rbx & 0xff);
        Assert.Equal(1UL, (m.Cpu.Rbx >> 8) & 0xff);
        Assert.Equal(0UL, m.Read(Data + 0x100 + 12, 1));
        Assert.Equal(0UL, m.Cpu.Rdx & 0xff); // bit 1 of [rdi] is 0 (bit 1 of the dword at +4 is not it)
    }

    [Fact]
    public void Bt_on_registers_masks_the_offset()
    {
        var m = new Machine();
        m.Cpu.Rax = 0b1010;
        m.Run(a => { a.mov(ecx, 65); a.bt(rax, rcx); a.setc(bl); a.bts(eax, 32); a.btr(rax, 3); a.btc(rax, 63); a.ret(); });
        Assert.Equal(1UL, m.Cpu.Rbx & 0xff);
        Assert.Equal(0x8000_0000_0000_0003UL, m.Cpu.Rax); // bts eax,32 -> bit 0 (32 mod 32), zero-extended
    }

    [Fact]
    public void Bit_scans_and_counts()
    {
        var m = new Machine();
        m.Cpu.Rax = 0x0000_0100_0000_8000;
        m.Cpu.SetGpr(9, 0x5555);
        m.Run(a =>
        {
            a.bsf(rbx, rax); a.bsr(rcx, rax);
            a.tzcnt(rdx, rax); a.lzcnt(rsi, rax);
            a.popcnt(rdi, rax);
            a.xor(r8d, r8d); a.bsf(r9, r8);  // source 0: ZF, destination unchanged
            a.ret();
        });
        Assert.Equal(15UL, m.Cpu.Rbx);
        Assert.Equal(40UL, m.Cpu.Rcx);
        Assert.Equal(15UL, m.Cpu.Rdx);
        Assert.Equal(23UL, m.Cpu.Rsi);
        Assert.Equal(2UL, m.Cpu.Rdi);
        Assert.Equal(0x5555UL, m.Cpu.Gpr[9]);
        Assert.True(m.Flag(ZF));
        m.Run(a => { a.xor(eax, eax); a.lzcnt(ecx, eax); a.ret(); });
        Assert.Equal(32UL, m.Cpu.Rcx);
        Assert.True(m.Flag(CF));
    }

    [Fact]
    public void Xadd_bswap_cmpxchg_on_registers_and_memory()
    {
        var m = new Machine();
        m.Write(Data, 10);
        m.Cpu.Rdi = Data;
        m.Run(a =>
        {
            a.mov(eax, 5);
            a.@lock.xadd(__qword_ptr[rdi], rax); // mem 15, rax 10
            a.mov(rbx, 0x0102_0304_0506_0708);
            a.bswap(rbx);
            a.mov(ecx, 0x1122_3344);
            a.bswap(ecx);
            a.mov(edx, 99);
            a.mov(eax, 15);
            a.@lock.cmpxchg(__qword_ptr[rdi], rdx); // equal: mem = 99, ZF
            a.ret();
        });
        Assert.Equal(99UL, m.Read(Data));
        Assert.Equal(15UL, m.Cpu.Rax);
        Assert.Equal(0x0807_0605_0403_0201UL, m.Cpu.Rbx);
        Assert.Equal(0x4433_2211UL, m.Cpu.Rcx);
        Assert.True(m.Flag(ZF));
        m.Run(a => { a.mov(eax, 1); a.mov(edx, 2); a.cmpxchg(__qword_ptr[rdi], rdx); a.ret(); });
        Assert.Equal(99UL, m.Cpu.Rax);
        Assert.Equal(99UL, m.Read(Data));
        Assert.False(m.Flag(ZF));
    }

    [Fact]
    public void Cmpxchg8b_compares_edx_eax_and_stores_ecx_ebx()
    {
        var m = new Machine(32);
        m.Write(Data, 0x1111_2222_3333_4444);
        m.Run(a =>
        {
            a.mov(esi, (int)Data);
            a.mov(edx, 0x1111_2222); a.mov(eax, 0x3333_4444);
            a.mov(ecx, 0x5555_6666); a.mov(ebx, 0x7777_8888);
            a.@lock.cmpxchg8b(__qword_ptr[esi]);
            a.ret();
        });
        Assert.Equal(0x5555_6666_7777_8888UL, m.Read(Data));
        Assert.True(m.Flag(ZF));
        m.Run(a => { a.xor(eax, eax); a.xor(edx, edx); a.@lock.cmpxchg8b(__qword_ptr[esi]); a.ret(); });
        Assert.False(m.Flag(ZF));
        Assert.Equal(0x7777_8888UL, m.Cpu.Rax);
        Assert.Equal(0x5555_6666UL, m.Cpu.Rdx);
    }

    // ---- control flow ----

    [Fact]
    public void Loop_counts_rcx_down()
    {
        var m = new Machine();
        m.Run(a =>
        {
            var top = a.CreateLabel();
            a.mov(ecx, 10); a.xor(eax, eax);
            a.Label(ref top);
            a.add(eax, 3);
            a.loop(top);
            a.ret();
        });
        Assert.Equal(30UL, m.Cpu.Rax);
        Assert.Equal(0UL, m.Cpu.Rcx);
    }

    [Fact]
    public void Loope_and_loopne_also_stop_on_ZF()
    {
        var m = new Machine();
        // Scan for the first 0 byte: loopne stops when cmp sets ZF.
        m.Memory.WriteBytes(Data, [5, 6, 7, 0, 9]);
        m.Run(a =>
        {
            var top = a.CreateLabel();
            a.mov(ecx, 5); a.mov(rsi, (long)Data - 1);
            a.Label(ref top);
            a.inc(rsi);
            a.cmp(__byte_ptr[rsi], 0);
            a.loopne(top);
            a.ret();
        });
        Assert.Equal(Data + 3, m.Cpu.Rsi);
        Assert.Equal(1UL, m.Cpu.Rcx);

        m.Run(a =>
        {
            var top = a.CreateLabel();
            a.mov(ecx, 5); a.mov(rsi, (long)Data - 1);
            a.Label(ref top);
            a.inc(rsi);
            a.cmp(__byte_ptr[rsi], 5);
            a.loope(top);
            a.ret();
        });
        Assert.Equal(Data + 1, m.Cpu.Rsi);
        Assert.Equal(3UL, m.Cpu.Rcx);
    }

    [Theory]
    [InlineData(0UL, true)]
    [InlineData(1UL, false)]
    [InlineData(0x1_0000_0000UL, false)]
    public void Jrcxz_tests_the_whole_count_register(ulong rcx, bool taken)
    {
        var m = new Machine();
        m.Cpu.Rcx = rcx;
        m.Run(a => { var l = a.CreateLabel(); a.jrcxz(l); a.mov(esi, 0); a.ret(); a.Label(ref l); a.mov(esi, 1); a.ret(); });
        Assert.Equal(taken ? 1UL : 0UL, m.Cpu.Rsi);
    }

    [Theory]
    [InlineData(0UL, true)]
    [InlineData(0x1_0000_0000UL, true)] // 67-prefixed in 64-bit mode: only ECX counts
    [InlineData(2UL, false)]
    public void Jecxz_tests_ecx(ulong rcx, bool taken)
    {
        // Iced's assembler refuses jecxz in 64-bit mode, so hand-encode it: 67 e3 rel8.
        var m = new Machine();
        m.Cpu.Rcx = rcx;
        ulong entry = m.Load([0x67, 0xe3, 0x06, 0xbe, 0, 0, 0, 0, 0xc3, 0xbe, 1, 0, 0, 0, 0xc3]);
        Assert.Equal(Mnemonic.Jecxz, Asm.Decode(64, [0x67, 0xe3, 0x06]).Mnemonic);
        Assert.True(m.Call(entry).IsCompleted);
        Assert.Equal(taken ? 1UL : 0UL, m.Cpu.Rsi);

        var m32 = new Machine(32);
        m32.Cpu.Rcx = rcx & 0xffff_ffff;
        m32.Run(a => { var l = a.CreateLabel(); a.jecxz(l); a.mov(esi, 0); a.ret(); a.Label(ref l); a.mov(esi, 1); a.ret(); });
        Assert.Equal(taken ? 1UL : 0UL, m32.Cpu.Rsi);
    }

    [Fact]
    public void Nested_calls_return_in_order_and_restore_the_stack()
    {
        var m = new Machine();
        m.Run(a =>
        {
            var f1 = a.CreateLabel(); var f2 = a.CreateLabel(); var f3 = a.CreateLabel();
            a.xor(eax, eax);
            a.call(f1);
            a.imul(rax, rax, 10); a.add(rax, 4);
            a.ret();
            a.Label(ref f1);
            a.imul(rax, rax, 10); a.add(rax, 1);
            a.call(f2);
            a.imul(rax, rax, 10); a.add(rax, 3);
            a.ret();
            a.Label(ref f2);
            a.imul(rax, rax, 10); a.add(rax, 2);
            a.mov(rbx, rsp);
            a.lea(rcx, __[f3]);
            a.call(rcx);          // indirect call through a register
            a.ret();
            a.Label(ref f3);
            a.push(rbx);
            a.mov(rdx, __qword_ptr[rsp + 8]); // return address into f2
            a.pop(rbx);
            a.ret();
        });
        Assert.Equal(1234UL, m.Cpu.Rax);
        Assert.Equal(Machine.StackTop, m.Cpu.Rsp);
        Assert.Equal(Machine.StackTop - 8 * 3, m.Cpu.Rbx); // sentinel, f1's and f2's return addresses
    }

    [Fact]
    public void Recursion_computes_a_factorial()
    {
        var m = new Machine();
        m.Run(a =>
        {
            var fact = a.CreateLabel(); var one = a.CreateLabel();
            a.Label(ref fact);
            a.cmp(rdi, 1);
            a.jbe(one);
            a.push(rdi);
            a.dec(rdi);
            a.call(fact);
            a.pop(rdi);
            a.imul(rax, rdi);
            a.ret();
            a.Label(ref one);
            a.mov(eax, 1);
            a.ret();
        }, 20);
        Assert.Equal(2_432_902_008_176_640_000UL, m.Cpu.Rax);
        Assert.Equal(Machine.StackTop, m.Cpu.Rsp);
    }

    [Fact]
    public void Ret_imm16_pops_arguments()
    {
        var m = new Machine();
        m.Run(a =>
        {
            var f = a.CreateLabel();
            a.push(1); a.push(2);
            a.call(f);
            a.ret();
            a.Label(ref f);
            a.mov(rax, __qword_ptr[rsp + 8]);
            a.add(rax, __qword_ptr[rsp + 16]);
            a.ret(16);
        });
        Assert.Equal(3UL, m.Cpu.Rax);
        Assert.Equal(Machine.StackTop, m.Cpu.Rsp);
    }

    [Fact]
    public void Push_and_pop_move_the_stack_pointer_and_data()
    {
        var m = new Machine();
        m.Write(Data, 0xfeed);
        m.Cpu.Rax = 1; m.Cpu.Rbx = 2;
        m.Run(a =>
        {
            a.push(rax); a.push(rbx);
            a.pop(rax); a.pop(rbx);                 // swapped
            a.push(-5);                             // sign-extended imm8
            a.pop(rcx);
            a.push(__qword_ptr[Data]);
            a.pop(__qword_ptr[Data + 8]);
            a.mov(rdx, rsp);
            a.push(rsp);                            // pushes the value before the push
            a.pop(rsi);
            a.push(bp);                             // 16-bit push: rsp -= 2
            a.mov(rdi, rsp);
            a.pop(bp);
            a.ret();
        });
        Assert.Equal(2UL, m.Cpu.Rax);
        Assert.Equal(1UL, m.Cpu.Rbx);
        Assert.Equal(unchecked((ulong)-5L), m.Cpu.Rcx);
        Assert.Equal(0xfeedUL, m.Read(Data + 8));
        Assert.Equal(m.Cpu.Rdx, m.Cpu.Rsi);
        Assert.Equal(Machine.StackTop - 8 - 2, m.Cpu.Rdi);
        Assert.Equal(Machine.StackTop, m.Cpu.Rsp);
    }

    [Fact]
    public void Enter_style_frame_with_leave()
    {
        var m = new Machine();
        m.Cpu.Rbp = 0xbbbb;
        m.Run(a =>
        {
            a.push(rbp); a.mov(rbp, rsp); a.sub(rsp, 64);
            a.mov(__qword_ptr[rbp - 8], 42);
            a.mov(rax, __qword_ptr[rbp - 8]);
            a.leave();
            a.ret();
        });
        Assert.Equal(42UL, m.Cpu.Rax);
        Assert.Equal(0xbbbbUL, m.Cpu.Rbp);
        Assert.Equal(Machine.StackTop, m.Cpu.Rsp);
    }

    // ---- addressing ----

    [Fact]
    public void Addressing_modes_sib_rip_relative_and_32_bit_addresses()
    {
        var m = new Machine();
        for (ulong i = 0; i < 8; i++) m.Write(Data + 8 * i, 100 + i);
        m.Cpu.Rdi = Data; m.Cpu.Rcx = 3;
        m.Cpu.Rsi = 0xffff_ffff_0000_0000 | Data; // upper half ignored with a 32-bit address
        m.Run(a =>
        {
            var k = a.CreateLabel();
            a.mov(rax, __qword_ptr[rdi + rcx * 8 + 16]);   // element 5
            a.mov(rbx, __qword_ptr[k]);                     // rip-relative
            a.mov(edx, __dword_ptr[esi + 8]);               // 67 prefix: element 1
            a.lea(r8, __[rdi + rcx * 4 - 4]);
            a.ret();
            a.Label(ref k);
            a.dq(0x0123_4567_89ab_cdefUL);
        });
        Assert.Equal(105UL, m.Cpu.Rax);
        Assert.Equal(0x0123_4567_89ab_cdefUL, m.Cpu.Rbx);
        Assert.Equal(101UL, m.Cpu.Rdx);
        Assert.Equal(Data + 8, m.Cpu.Gpr[8]);
    }

    [Fact]
    public void Unaligned_access_across_a_frame_boundary()
    {
        var m = new Machine();
        ulong at = Data + 0x1000 - 3;
        m.Cpu.Rdi = at;
        m.Run(a => { a.mov(rax, 0x1122_3344_5566_7788); a.mov(__qword_ptr[rdi], rax); a.mov(rbx, __qword_ptr[rdi]); a.ret(); });
        Assert.Equal(0x1122_3344_5566_7788UL, m.Cpu.Rbx);
        Assert.Equal(0x88UL, m.Read(at, 1));
        Assert.Equal(0x11UL, m.Read(at + 7, 1));
    }

    // ---- string instructions ----

    [Fact]
    public void String_instructions_in_both_directions_and_lods()
    {
        var m = new Machine();
        m.Memory.WriteBytes(Data, [1, 2, 3, 4, 5, 6, 7, 8]);
        m.Run(a =>
        {
            a.mov(rsi, (long)Data); a.mov(rdi, (long)Data + 0x100);
            a.mov(ecx, 4); a.rep.movsw();
            a.mov(rsi, (long)Data + 7);
            a.lodsb();                                      // al = 8, rsi += 1
            a.mov(rbx, rsi);
            a.ret();
        });
        Assert.Equal(Data + 0x108, m.Cpu.Rdi);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, m.ReadBytes(Data + 0x100, 8));
        Assert.Equal(8UL, m.Cpu.Rax & 0xff);
        Assert.Equal(Data + 8, m.Cpu.Rbx);

        // DF=1: rep movsb copies backwards (memmove of an overlapping region upwards).
        m.Cpu.Rflags |= DF;
        m.Run(a =>
        {
            a.mov(rsi, (long)Data + 7); a.mov(rdi, (long)Data + 9);
            a.mov(ecx, 8); a.rep.movsb();
            a.ret();
        });
        Assert.Equal(new byte[] { 1, 2, 1, 2, 3, 4, 5, 6, 7, 8 }, m.ReadBytes(Data, 10));
        Assert.Equal(Data + 1, m.Cpu.Rdi);
        Assert.Equal(Data - 1, m.Cpu.Rsi);
    }

    [Fact]
    public void Rep_with_zero_count_does_nothing_and_32_bit_rep_uses_ecx()
    {
        var m = new Machine();
        m.Cpu.Rcx = 0; m.Cpu.Rdi = Data;
        m.Run(a => { a.mov(eax, -1); a.rep.stosq(); a.ret(); });
        Assert.Equal(0UL, m.Read(Data));
        Assert.Equal(Data, m.Cpu.Rdi);

        var m32 = new Machine(32);
        m32.Run(a => { a.mov(edi, (int)Data); a.mov(ecx, 3); a.mov(eax, 0x0a0b_0c0d); a.rep.stosd(); a.ret(); });
        Assert.Equal(0x0a0b_0c0dUL, m32.Read(Data + 8, 4));
        Assert.Equal(0UL, m32.Read(Data + 12, 4));
        Assert.Equal(Data + 12, m32.Cpu.Rdi);
        Assert.Equal(0UL, m32.Cpu.Rcx);
    }

    // ---- 32-bit mode ----

    [Fact]
    public void Thirty_two_bit_mode_calls_with_regparm_and_4_byte_stack_slots()
    {
        var m = new Machine(32);
        m.Run(a =>
        {
            var f = a.CreateLabel();
            a.push(ebx);
            a.mov(ebx, eax);
            a.call(f);
            a.pop(ebx);
            a.ret();
            a.Label(ref f);
            a.lea(eax, __[ebx + edx * 2]);   // eax + 2*edx
            a.add(eax, ecx);
            a.mov(esi, esp);
            a.ret();
        }, 100, 20, 3);
        Assert.Equal(143UL, m.Cpu.Rax);
        Assert.Equal(Machine.StackTop - 4 - 4 - 4, m.Cpu.Rsi); // sentinel, ebx, return address
        Assert.Equal(Machine.StackTop, m.Cpu.Rsp);
        Assert.Equal(0UL, m.Cpu.Rbx);
    }

    [Fact]
    public void Thirty_two_bit_mode_wraps_addresses_and_loop_uses_ecx()
    {
        var m = new Machine(32);
        m.Run(a =>
        {
            var top = a.CreateLabel();
            a.mov(edi, unchecked((int)0xffff_fff0));
            a.mov(__dword_ptr[edi + 0x20010], 7);  // wraps to 0x20000
            a.mov(ecx, 4); a.xor(eax, eax);
            a.Label(ref top);
            a.add(eax, __dword_ptr[0x20000]);
            a.loop(top);
            a.ret();
        });
        Assert.Equal(7UL, m.Read(Data, 4));
        Assert.Equal(28UL, m.Cpu.Rax);
    }

    // ---- helpers ----

    private sealed record Cc(string Name, Action<Assembler, Label> Jump, Action<Assembler> Set, Action<Assembler> Cmov);

    private static readonly Cc[] Conditions =
    [
        new("o", (a, l) => a.jo(l), a => a.seto(sil), a => a.cmovo(esi, r8d)),
        new("no", (a, l) => a.jno(l), a => a.setno(sil), a => a.cmovno(esi, r8d)),
        new("b", (a, l) => a.jb(l), a => a.setb(sil), a => a.cmovb(esi, r8d)),
        new("ae", (a, l) => a.jae(l), a => a.setae(sil), a => a.cmovae(esi, r8d)),
        new("e", (a, l) => a.je(l), a => a.sete(sil), a => a.cmove(esi, r8d)),
        new("ne", (a, l) => a.jne(l), a => a.setne(sil), a => a.cmovne(esi, r8d)),
        new("be", (a, l) => a.jbe(l), a => a.setbe(sil), a => a.cmovbe(esi, r8d)),
        new("a", (a, l) => a.ja(l), a => a.seta(sil), a => a.cmova(esi, r8d)),
        new("s", (a, l) => a.js(l), a => a.sets(sil), a => a.cmovs(esi, r8d)),
        new("ns", (a, l) => a.jns(l), a => a.setns(sil), a => a.cmovns(esi, r8d)),
        new("p", (a, l) => a.jp(l), a => a.setp(sil), a => a.cmovp(esi, r8d)),
        new("np", (a, l) => a.jnp(l), a => a.setnp(sil), a => a.cmovnp(esi, r8d)),
        new("l", (a, l) => a.jl(l), a => a.setl(sil), a => a.cmovl(esi, r8d)),
        new("ge", (a, l) => a.jge(l), a => a.setge(sil), a => a.cmovge(esi, r8d)),
        new("le", (a, l) => a.jle(l), a => a.setle(sil), a => a.cmovle(esi, r8d)),
        new("g", (a, l) => a.jg(l), a => a.setg(sil), a => a.cmovg(esi, r8d)),
    ];

    private static bool Holds(string cc, ulong f)
    {
        bool cf = (f & CF) != 0, zf = (f & ZF) != 0, sf = (f & SF) != 0, of = (f & OF) != 0, pf = (f & PF) != 0;
        return cc switch
        {
            "o" => of, "no" => !of, "b" => cf, "ae" => !cf, "e" => zf, "ne" => !zf,
            "be" => cf || zf, "a" => !cf && !zf, "s" => sf, "ns" => !sf, "p" => pf, "np" => !pf,
            "l" => sf != of, "ge" => sf == of, "le" => zf || sf != of, "g" => !zf && sf == of,
            _ => throw new ArgumentOutOfRangeException(nameof(cc)),
        };
    }

    private static string Describe(ulong f) =>
        string.Join(' ', new[] { (CF, "CF"), (PF, "PF"), (AF, "AF"), (ZF, "ZF"), (SF, "SF"), (OF, "OF") }
            .Where(x => (f & x.Item1) != 0).Select(x => x.Item2));
}

internal static class GuestCpuTestExtensions
{
    public static void SetGpr(this GuestCpu cpu, int index, ulong value) => cpu.Gpr[index] = value;
}
