using Farm.Simulation.X86;

namespace Farm.Simulation.GuestCode;

/// <summary>A flavour's routines laid out in guest memory (the guest kernel's text).</summary>
public sealed class RoutineImage
{
    private readonly ulong[] _entries = new ulong[Enum.GetValues<KernelOp>().Length]; // by op: one lookup per routine call

    public RoutineImage(GuestFlavour flavour, GuestMemory memory, ulong textBase)
    {
        Flavour = flavour;
        ulong at = textBase;
        foreach (var (op, routine) in flavour.Routines.OrderBy(kv => kv.Key))
        {
            memory.WriteBytes(at, routine.Bytes);
            _entries[(int)op] = at;
            at += ((ulong)routine.Bytes.Length + 15) & ~15UL;
        }
        End = at;
    }

    public GuestFlavour Flavour { get; }
    public ulong End { get; }
    public ulong EntryOf(KernelOp op) =>
        _entries[(int)op] is var at && at != 0 ? at : throw new KeyNotFoundException($"guest flavour {Flavour.Name} has no routine for {op}");
}
