using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Farm.Simulation.X86;

/// <summary>
/// Guest physical memory, allocated on first touch and read as zeros until then. Raw access
/// only; write protection is the <see cref="IWriteGate"/>'s business, not the memory's.
/// Storage is in 1 MiB chunks of 256 frames: each is one large-object-heap array, allocated
/// zeroed once and never moved or promoted by the GC (4 KiB arrays per frame were copied from
/// generation to generation, about a fifth of a kernbench run's CPU time; docs/performance.md).
/// </summary>
public sealed class GuestMemory
{
    public const int PageShift = 12;
    public const int PageSize = 1 << PageShift;
    public const ulong PageMask = PageSize - 1;
    private const int ChunkShift = 20;
    private const ulong ChunkMask = (1UL << ChunkShift) - 1;

    private readonly byte[]?[] _chunks;

    public GuestMemory(ulong sizeBytes)
    {
        if (sizeBytes == 0 || (sizeBytes & PageMask) != 0 || (sizeBytes >> PageShift) > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(sizeBytes), sizeBytes, "guest memory size must be a non-zero multiple of 4096");
        SizeBytes = sizeBytes;
        FrameCount = sizeBytes >> PageShift;
        _chunks = new byte[]?[(sizeBytes + ChunkMask) >> ChunkShift];
    }

    public ulong SizeBytes { get; }
    public ulong FrameCount { get; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Contains(ulong address, ulong length) =>
        address < SizeBytes && length <= SizeBytes - address;

    /// <summary>The frame's bytes, allocated (zeroed) on first use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Frame(ulong gfn) =>
        Chunk(gfn << PageShift).AsSpan((int)((gfn << PageShift) & ChunkMask), PageSize);

    /// <summary>The frame's bytes if it was ever written, else empty (it reads as zeros).</summary>
    public ReadOnlySpan<byte> FrameIfAllocated(ulong gfn)
    {
        var chunk = _chunks[gfn >> (ChunkShift - PageShift)];
        return chunk is null ? default : chunk.AsSpan((int)((gfn << PageShift) & ChunkMask), PageSize);
    }

    /// <summary>The chunk holding <paramref name="address"/>, allocated (zeroed) on first use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte[] Chunk(ulong address) => _chunks[address >> ChunkShift] ?? NewChunk(address >> ChunkShift);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private byte[] NewChunk(ulong index)
    {
        ulong start = index << ChunkShift;
        return _chunks[index] = new byte[Math.Min(1UL << ChunkShift, SizeBytes - start)];
    }

    /// <summary>Bytes [address, address+length) that lie inside one frame.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Slice(ulong address, int length) =>
        Frame(address >> PageShift).Slice((int)(address & PageMask), length);

    public ulong Read(ulong address, int size)
    {
        CheckRange(address, (ulong)size);
        if ((int)(address & PageMask) + size <= PageSize)
        {
            var chunk = _chunks[address >> ChunkShift];
            if (chunk is null) return 0;
            // In range: CheckRange bounded the address, and the access stays inside one frame.
            ref byte at = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(chunk), (nint)(address & ChunkMask));
            return size switch
            {
                1 => at,
                2 => LittleEndian(Unsafe.ReadUnaligned<ushort>(ref at)),
                4 => LittleEndian(Unsafe.ReadUnaligned<uint>(ref at)),
                _ => LittleEndian(Unsafe.ReadUnaligned<ulong>(ref at)),
            };
        }
        ulong value = 0;
        for (int i = 0; i < size; i++)
            value |= (ulong)Read(address + (ulong)i, 1) << (8 * i);
        return value;
    }

    public void Write(ulong address, int size, ulong value)
    {
        CheckRange(address, (ulong)size);
        if ((int)(address & PageMask) + size <= PageSize)
        {
            ref byte at = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Chunk(address)), (nint)(address & ChunkMask));
            switch (size)
            {
                case 1: at = (byte)value; break;
                case 2: Unsafe.WriteUnaligned(ref at, LittleEndian((ushort)value)); break;
                case 4: Unsafe.WriteUnaligned(ref at, LittleEndian((uint)value)); break;
                default: Unsafe.WriteUnaligned(ref at, LittleEndian(value)); break;
            }
            return;
        }
        for (int i = 0; i < size; i++)
            Write(address + (ulong)i, 1, value >> (8 * i));
    }

    public void WriteBytes(ulong address, ReadOnlySpan<byte> bytes)
    {
        CheckRange(address, (ulong)bytes.Length);
        while (!bytes.IsEmpty)
        {
            int chunk = Math.Min(bytes.Length, PageSize - (int)(address & PageMask));
            bytes[..chunk].CopyTo(Slice(address, chunk));
            bytes = bytes[chunk..];
            address += (ulong)chunk;
        }
    }

    public void ReadBytes(ulong address, Span<byte> destination)
    {
        CheckRange(address, (ulong)destination.Length);
        while (!destination.IsEmpty)
        {
            int chunk = Math.Min(destination.Length, PageSize - (int)(address & PageMask));
            var frames = _chunks[address >> ChunkShift];
            if (frames is null) destination[..chunk].Clear();
            else frames.AsSpan((int)(address & ChunkMask), chunk).CopyTo(destination);
            destination = destination[chunk..];
            address += (ulong)chunk;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort LittleEndian(ushort v) => BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint LittleEndian(uint v) => BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong LittleEndian(ulong v) => BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckRange(ulong address, ulong length)
    {
        if (!Contains(address, length)) GuestMemoryAccessException.Throw(address, length, SizeBytes);
    }
}

/// <summary>An access outside guest physical memory. Caught at the interpreter boundary and
/// turned into a <see cref="GuestCodeError"/> naming the instruction.</summary>
public sealed class GuestMemoryAccessException(ulong address, ulong length, ulong size)
    : Exception($"access of {length} byte(s) at 0x{address:x} is outside guest memory (0x0-0x{size - 1:x})")
{
    public ulong Address { get; } = address;

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void Throw(ulong address, ulong length, ulong size) =>
        throw new GuestMemoryAccessException(address, length, size);
}
