using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Farm.Simulation.GuestCode;

/// <summary>
/// Which machine code implements each kernel operation: the guest kernel's flavour.
/// Built-in: <c>linux-3.x</c> (x86-64, clear_page as rep stosq, wrprotect as lock andb),
/// <c>linux-3.x-erms</c> (clear_page as rep stosb), <c>recent</c> (wrprotect as a lock cmpxchg
/// loop), <c>linux-3.x-i386</c> (32-bit non-PAE, 4-byte ptes, memset as rep stosl) and
/// <c>linux-3.x-pae</c> (32-bit PAE, 8-byte ptes written as the i386 PAE kernel does: GuestFlavour.Pae.cs).
/// Each flavour belongs to one paging mode (<see cref="Paging"/>).
/// </summary>
public sealed partial class GuestFlavour
{
    private readonly Dictionary<KernelOp, GuestRoutine> _routines;

    private GuestFlavour(string name, int bitness, Dictionary<KernelOp, GuestRoutine> routines, string paging)
    {
        Name = name;
        Bitness = bitness;
        _routines = routines;
        Paging = paging;
    }

    public string Name { get; }
    public int Bitness { get; }
    /// <summary>The vm.paging mode this kernel's code is built for (its pte size and layout).</summary>
    public string Paging { get; }
    public int PteSize => Paging == "i386" ? 4 : 8;
    public IReadOnlyDictionary<KernelOp, GuestRoutine> Routines => _routines;

    public static IReadOnlyList<string> BuiltInNames { get; } = ["linux-3.x", "linux-3.x-erms", "recent", "linux-3.x-i386", "linux-3.x-pae"];

    public static GuestFlavour BuiltIn(string name) => name switch
    {
        "linux-3.x" => X86_64(name, erms: false, cmpxchgWrprotect: false),
        "linux-3.x-erms" => X86_64(name, erms: true, cmpxchgWrprotect: false),
        "recent" => X86_64(name, erms: true, cmpxchgWrprotect: true),
        "linux-3.x-i386" => I386(name),
        "linux-3.x-pae" => Pae(name),
        _ => throw new ArgumentException($"unknown guest flavour '{name}'; valid: {string.Join(", ", BuiltInNames)}", nameof(name)),
    };

    /// <summary>The paging mode of a built-in flavour, without building its code.</summary>
    public static string PagingOf(string name) => name switch
    {
        "linux-3.x-i386" => "i386",
        "linux-3.x-pae" => "pae",
        _ => "x86-64",
    };

    /// <summary>The built-in flavours that run on <paramref name="paging"/>.</summary>
    public static IEnumerable<string> ForPaging(string paging) => BuiltInNames.Where(n => PagingOf(n) == paging);

    /// <summary>"x86-64 with linux-3.x, linux-3.x-erms or recent; i386 with ...": every valid pair.</summary>
    public static string ValidPairs() => string.Join("; ", new[] { "x86-64", "i386", "pae" }
        .Select(p => $"{p} with {JoinOr(ForPaging(p).ToList())}"));

    private static string JoinOr(IReadOnlyList<string> names) =>
        names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " or " + names[^1];

    /// <summary>
    /// How a routine gets a pte value: one register, or on a 32-bit PAE guest (8-byte ptes, 4-byte
    /// registers) two, low half then high half (EDX, ECX), as the kernel's u64 argument.
    /// </summary>
    public int PteValueArgs(ulong value, Span<ulong> args)
    {
        if (Bitness == 32 && PteSize == 8)
        {
            args[0] = value & 0xffff_ffffUL;
            args[1] = value >> 32;
            return 2;
        }
        args[0] = value;
        return 1;
    }

    /// <summary>This flavour with some routines replaced (e.g. raw bytes from a workload file).</summary>
    public GuestFlavour With(IReadOnlyDictionary<KernelOp, GuestRoutine> overrides)
    {
        var merged = new Dictionary<KernelOp, GuestRoutine>(_routines);
        foreach (var (op, routine) in overrides)
        {
            if (routine.Bitness != Bitness)
                throw new ArgumentException($"routine '{routine.Name}' is {routine.Bitness}-bit but flavour '{Name}' is {Bitness}-bit");
            merged[op] = routine;
        }
        return new GuestFlavour(Name + "+custom", Bitness, merged, Paging);
    }

    private static GuestFlavour X86_64(string name, bool erms, bool cmpxchgWrprotect)
    {
        var r = new Dictionary<KernelOp, GuestRoutine>
        {
            [KernelOp.ClearPage] = erms
                ? Build("clear_page_erms", 64, a => { a.mov(ecx, 4096); a.xor(eax, eax); a.rep.stosb(); a.ret(); })
                : Build("clear_page_rep", 64, a => { a.mov(ecx, 4096 / 8); a.xor(eax, eax); a.rep.stosq(); a.ret(); }),
            [KernelOp.SetPte] = Build("set_pte", 64, a => { a.mov(__qword_ptr[rdi], rsi); a.ret(); }),
            [KernelOp.SetPmd] = Build("set_pmd", 64, a => { a.mov(__qword_ptr[rdi], rsi); a.ret(); }),
            [KernelOp.PtepSetWrprotect] = cmpxchgWrprotect
                ? Build("ptep_set_wrprotect_cmpxchg", 64, a =>
                {
                    var retry = a.CreateLabel();
                    a.mov(rax, __qword_ptr[rdi]);
                    a.Label(ref retry);
                    a.mov(rdx, rax);
                    a.and(rdx, -3);
                    a.@lock.cmpxchg(__qword_ptr[rdi], rdx);
                    a.jne(retry);
                    a.ret();
                })
                : Build("ptep_set_wrprotect", 64, a => { a.@lock.and(__byte_ptr[rdi], 0xfd); a.ret(); }),
            [KernelOp.PtepGetAndClear] = Build("ptep_get_and_clear", 64, a => { a.xor(eax, eax); a.xchg(__qword_ptr[rdi], rax); a.ret(); }),
            [KernelOp.PteClear] = Build("pte_clear", 64, a => { a.mov(__qword_ptr[rdi], 0); a.ret(); }),
            [KernelOp.CopyPage] = Build("copy_page", 64, a => { a.mov(ecx, 4096 / 8); a.rep.movsq(); a.ret(); }),
            [KernelOp.Memset] = Build("memset", 64, a =>
            {
                // rdi=ptr, esi=byte, rdx=count: qwords, then the tail in bytes.
                a.mov(r9, rdi);
                a.movzx(eax, sil);
                a.mov(r8, 0x0101010101010101L);
                a.imul(rax, r8);
                a.mov(rcx, rdx);
                a.shr(rcx, 3);
                a.rep.stosq();
                a.mov(ecx, edx);
                a.and(ecx, 7);
                a.rep.stosb();
                a.mov(rax, r9);
                a.ret();
            }),
            // memcpy_64.S (3.x): rep movsb with ERMS, else rep movsq and the tail in bytes (REP_GOOD).
            [KernelOp.Memcpy] = erms
                ? Build("memcpy_erms", 64, a => { a.mov(rax, rdi); a.mov(rcx, rdx); a.rep.movsb(); a.ret(); })
                : Build("memcpy", 64, a =>
                {
                    a.mov(rax, rdi); a.mov(rcx, rdx); a.shr(rcx, 3); a.rep.movsq();
                    a.mov(ecx, edx); a.and(ecx, 7); a.rep.movsb(); a.ret();
                }),
        };
        return new GuestFlavour(name, 64, r, "x86-64");
    }

    private static GuestFlavour I386(string name) => new(name, 32, I386Routines(), "i386");

    private static Dictionary<KernelOp, GuestRoutine> I386Routines()
    {
        // regparm(3): eax, edx, ecx; edi/esi/ebx are callee-saved.
        var r = new Dictionary<KernelOp, GuestRoutine>
        {
            [KernelOp.ClearPage] = Build("clear_page_i386", 32, a =>
            {
                a.push(edi); a.mov(edi, eax); a.xor(eax, eax); a.mov(ecx, 1024); a.rep.stosd(); a.pop(edi); a.ret();
            }),
            [KernelOp.SetPte] = Build("set_pte_i386", 32, a => { a.mov(__dword_ptr[eax], edx); a.ret(); }),
            [KernelOp.SetPmd] = Build("set_pmd_i386", 32, a => { a.mov(__dword_ptr[eax], edx); a.ret(); }),
            [KernelOp.PtepSetWrprotect] = Build("ptep_set_wrprotect_i386", 32, a => { a.@lock.and(__byte_ptr[eax], 0xfd); a.ret(); }),
            [KernelOp.PtepGetAndClear] = Build("ptep_get_and_clear_i386", 32, a => { a.xor(edx, edx); a.xchg(__dword_ptr[eax], edx); a.mov(eax, edx); a.ret(); }),
            [KernelOp.PteClear] = Build("pte_clear_i386", 32, a => { a.mov(__dword_ptr[eax], 0); a.ret(); }),
            [KernelOp.CopyPage] = Build("copy_page_i386", 32, a =>
            {
                a.push(edi); a.push(esi); a.mov(edi, eax); a.mov(esi, edx); a.mov(ecx, 1024); a.rep.movsd(); a.pop(esi); a.pop(edi); a.ret();
            }),
            [KernelOp.Memset] = Build("memset_i386", 32, a =>
            {
                // eax=ptr, edx=byte, ecx=count: rep stosl for the dwords, rep stosb for the tail.
                a.push(edi); a.push(ebx);
                a.mov(edi, eax); a.mov(ebx, ecx);
                a.movzx(eax, dl); a.imul(eax, eax, 0x01010101);
                a.shr(ecx, 2); a.rep.stosd();
                a.mov(ecx, ebx); a.and(ecx, 3); a.rep.stosb();
                a.pop(ebx); a.pop(edi); a.ret();
            }),
            // string_32.h __memcpy: eax=dst, edx=src, ecx=count: rep movsl, then the tail in bytes.
            [KernelOp.Memcpy] = Build("memcpy_i386", 32, a =>
            {
                a.push(edi); a.push(esi); a.push(ebx);
                a.mov(edi, eax); a.mov(esi, edx); a.mov(ebx, ecx);
                a.shr(ecx, 2); a.rep.movsd();
                a.mov(ecx, ebx); a.and(ecx, 3); a.rep.movsb();
                a.pop(ebx); a.pop(esi); a.pop(edi); a.ret();
            }),
        };
        return r;
    }

    private static GuestRoutine Build(string name, int bitness, Action<Assembler> emit)
    {
        var a = new Assembler(bitness);
        emit(a);
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), 0);
        return new GuestRoutine(name, bitness, stream.ToArray());
    }
}
