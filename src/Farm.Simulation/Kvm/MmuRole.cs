namespace Farm.Simulation.Kvm;

/// <summary>kvm_mmu_page_role: the bits a hash lookup must match exactly.</summary>
public readonly record struct MmuRole(int Level, bool Cr4Pae, int Quadrant, bool Direct, int Access, bool Invalid)
{
    public const int AccAll = 7;

    /// <summary>The role bits kvm_mmu_pte_write compares with the vCPU's base role before
    /// installing a new spte (cr4_pae, and for these guests nothing else varies).</summary>
    public bool CompatibleForPteWrite(MmuRole baseRole) => Cr4Pae == baseRole.Cr4Pae && !Direct;

    public MmuRole AsInvalid() => this with { Invalid = true };
}
