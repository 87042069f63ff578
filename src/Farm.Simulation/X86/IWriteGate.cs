namespace Farm.Simulation.X86;

/// <summary>
/// The one hook every guest memory write passes through. A vCPU's gate says whether its
/// view maps a frame writable; a refused write exits to the simulated KVM.
/// </summary>
public interface IWriteGate
{
    bool CanWrite(ulong gfn);
}

/// <summary>Receives the writes that the emulator performs on KVM's behalf
/// (emulator_write_emulated: write guest memory, then kvm_mmu_pte_write).</summary>
public interface IEmulatedWriteSink
{
    void OnEmulatedWrite(ulong address, int size, ulong value);
}
