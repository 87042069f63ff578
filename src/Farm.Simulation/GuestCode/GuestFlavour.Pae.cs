using static Iced.Intel.AssemblerRegisters;

namespace Farm.Simulation.GuestCode;

/// <summary>
/// <c>linux-3.x-pae</c>: the Linux 3.x i386 kernel with CONFIG_X86_PAE. Its pte helpers
/// (arch/x86/include/asm/pgtable-3level.h) write an 8-byte pte with 4-byte registers:
/// native_set_pte stores the high half, then the low half (smp_wmb() between them is only a
/// compiler barrier on x86, no instruction); native_pte_clear and native_pmd_clear store the low
/// half first; native_ptep_get_and_clear (SMP) is xchg on the low half, then a store to the high
/// half; set_pmd / set_pud / set_pte_atomic are set_64bit (asm/cmpxchg_32.h), a lock cmpxchg8b
/// loop. ptep_set_wrprotect is clear_bit (lock andb on the low byte) and clear_page / copy_page /
/// memset are the i386 ones. Arguments: ptep in EAX, the value's low half in EDX, high in ECX.
/// </summary>
public sealed partial class GuestFlavour
{
    private static GuestFlavour Pae(string name)
    {
        var r = I386Routines();
        r[KernelOp.SetPte] = Build("native_set_pte_pae", 32, a =>
        {
            a.mov(__dword_ptr[eax + 4], ecx); // ptep->pte_high = pte.pte_high
            a.mov(__dword_ptr[eax], edx);     // smp_wmb(); ptep->pte_low = pte.pte_low
            a.ret();
        });
        r[KernelOp.SetPmd] = Build("set_64bit", 32, a =>
        {
            // prev = *ptr; 1: lock cmpxchg8b *ptr (EDX:EAX = prev, ECX:EBX = value); jnz 1b
            var retry = a.CreateLabel();
            a.push(ebx); a.push(esi);
            a.mov(esi, eax);
            a.mov(ebx, edx);
            a.mov(eax, __dword_ptr[esi]);
            a.mov(edx, __dword_ptr[esi + 4]);
            a.Label(ref retry);
            a.@lock.cmpxchg8b(__qword_ptr[esi]);
            a.jne(retry);
            a.pop(esi); a.pop(ebx);
            a.ret();
        });
        r[KernelOp.PtepGetAndClear] = Build("native_ptep_get_and_clear_pae", 32, a =>
        {
            // res.pte_low = xchg(&ptep->pte_low, 0); res.pte_high = ptep->pte_high; ptep->pte_high = 0
            a.mov(ecx, eax);
            a.xor(eax, eax);
            a.xchg(__dword_ptr[ecx], eax);
            a.mov(edx, __dword_ptr[ecx + 4]);
            a.mov(__dword_ptr[ecx + 4], 0);
            a.ret();
        });
        r[KernelOp.PteClear] = Build("native_pte_clear_pae", 32, a =>
        {
            a.mov(__dword_ptr[eax], 0);     // ptep->pte_low = 0
            a.mov(__dword_ptr[eax + 4], 0); // smp_wmb(); ptep->pte_high = 0
            a.ret();
        });
        return new GuestFlavour(name, 32, r, "pae");
    }
}
