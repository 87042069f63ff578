using System.Runtime.CompilerServices;
using Farm.Simulation.X86.Internal;
using Farm.Simulation.X86.Internal.Handlers;
using Iced.Intel;

namespace Farm.Simulation.X86;

/// <summary>
/// Decodes guest code with Iced once and caches the instruction by address, one slot table
/// per code page. Each slot also holds the handler chosen for the instruction's form at decode
/// time (<see cref="HandlerSelector"/>), so the interpreter dispatches without re-examining the
/// operands. Code is treated as immutable once decoded (guest routines do not modify
/// themselves); <see cref="Invalidate"/> forgets a page's decodings if a caller rewrites it.
/// </summary>
public sealed class DecodedCodeCache(GuestMemory memory, int bitness)
{
    private readonly Dictionary<ulong, DecodedSlot[]> _pages = [];
    private readonly byte[] _fetch = new byte[15];
    private ulong _lastPage = ulong.MaxValue;
    private DecodedSlot[] _lastSlots = [];

    public int Bitness { get; } = bitness;
    public int DecodedCount { get; private set; }

    /// <summary>The instruction at <paramref name="rip"/>; decoded on first use.</summary>
    public ref readonly Instruction Get(ulong rip) => ref Slot(rip).Instruction;

    /// <summary>The slot at <paramref name="rip"/> (instruction and handler); decoded on first use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref DecodedSlot Slot(ulong rip)
    {
        if ((rip >> GuestMemory.PageShift) == _lastPage)
        {
            // Same page as the last lookup: the index is below the slot table's length.
            ref DecodedSlot slot = ref Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_lastSlots),
                (nint)(rip & GuestMemory.PageMask));
            if (slot.Handler is not null) return ref slot;
        }
        return ref SlotSlow(rip);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ref DecodedSlot SlotSlow(ulong rip)
    {
        ulong page = rip >> GuestMemory.PageShift;
        DecodedSlot[] slots;
        if (page == _lastPage)
        {
            slots = _lastSlots;
        }
        else
        {
            // A wild jump must not allocate a slot table for a page that is not guest memory.
            if (rip >= memory.SizeBytes) FetchOutsideMemory(rip);
            slots = SlotsFor(page);
        }
        ref DecodedSlot slot = ref slots[(int)(rip & GuestMemory.PageMask)];
        if (slot.Handler is null)
        {
            slot.Instruction = Decode(rip);
            slot.Handler = HandlerSelector.For(in slot.Instruction);
        }
        return ref slot;
    }

    public void Invalidate(ulong gfn)
    {
        // Cleared in place: a slot table is 192 KiB, so a page rewritten again and again
        // (tests, workload reloads) does not churn the large object heap.
        if (_pages.TryGetValue(gfn, out var slots)) Array.Clear(slots);
        _lastPage = ulong.MaxValue;
    }

    private DecodedSlot[] SlotsFor(ulong page)
    {
        if (!_pages.TryGetValue(page, out var slots))
        {
            slots = new DecodedSlot[GuestMemory.PageSize];
            _pages.Add(page, slots);
        }
        _lastPage = page;
        _lastSlots = slots;
        return slots;
    }

    private Instruction Decode(ulong rip)
    {
        if (rip >= memory.SizeBytes) FetchOutsideMemory(rip);
        int available = (int)Math.Min(15UL, memory.SizeBytes - rip);
        memory.ReadBytes(rip, _fetch.AsSpan(0, available));
        var decoder = Decoder.Create(Bitness, new ByteArrayCodeReader(_fetch, 0, available), rip);
        decoder.Decode(out var instruction);
        if (instruction.Code == Code.INVALID)
        {
            string reason = decoder.LastError == DecoderError.NoMoreBytes ? "instruction runs past the end of guest memory" : "invalid instruction encoding";
            GuestCodeException.Throw("invalid-encoding",
                $"{reason} at 0x{rip:x} (bytes {Hex(_fetch.AsSpan(0, Math.Min(available, Math.Max(1, instruction.Length))))})");
        }
        DecodedCount++;
        return instruction;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void FetchOutsideMemory(ulong rip) =>
        GuestCodeException.Throw("bad-fetch", $"instruction fetch at 0x{rip:x} is outside guest memory (0x0-0x{memory.SizeBytes - 1:x})");

    internal static string Hex(ReadOnlySpan<byte> bytes) =>
        string.Join(' ', bytes.ToArray().Select(b => b.ToString("x2")));
}

/// <summary>A decoded instruction and its handler; a null handler marks a slot not yet decoded.</summary>
internal struct DecodedSlot
{
    public Instruction Instruction;
    public OpHandler? Handler;
}
