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
/// <para>
/// Each frame also records whether it may hold a non-zero byte: <c>_frames[gfn]</c> is its chunk
/// if so, null if the frame reads as all zeros (never written, or cleared whole since). Such a
/// frame is not touched by reads (no host page fault), writing zeros to it stores nothing,
/// clearing it again needs no memset, and copying it is clearing. The guest's clear_page of a
/// data frame (whose contents the model never writes) then costs no host memory traffic, and an
/// untouched chunk stays unallocated. The guest still runs the routine and is charged for it;
/// only the host's redundant stores go (docs/performance.md, "Kernbench: guest side and runtime").
/// </para>
/// </summary>
public sealed class GuestMemory
{
    public const int PageShift = 12;
    public const int PageSize = 1 << PageShift;
    public const ulong PageMask = PageSize - 1;
    private const int ChunkShift = 20;
    private const ulong ChunkMask = (1UL << ChunkShift) - 1;

    private readonly byte[]?[] _chunks;
    // Per frame: its chunk if the frame may hold a non-zero byte, else null (all zeros). One load
    // answers both "where" and "is it zero" on every read and write.
    private readonly byte[]?[] _frames;

    public GuestMemory(ulong sizeBytes)
    {
        if (sizeBytes == 0 || (sizeBytes & PageMask) != 0 || (sizeBytes >> PageShift) > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(sizeBytes), sizeBytes, "guest memory size must be a non-zero multiple of 4096");
        SizeBytes = sizeBytes;
        FrameCount = sizeBytes >> PageShift;
        _chunks = new byte[]?[(sizeBytes + ChunkMask) >> ChunkShift];
        _frames = new byte[]?[FrameCount];
    }

    public ulong SizeBytes { get; }
    public ulong FrameCount { get; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Contains(ulong address, ulong length) =>
        address < SizeBytes && length <= SizeBytes - address;

    /// <summary>The frame's bytes for writing, allocated (zeroed) on first use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Frame(ulong gfn) =>
        Writable(gfn).AsSpan((int)((gfn << PageShift) & ChunkMask), PageSize);

    /// <summary>Whether the frame may hold a non-zero byte (false: it reads as all zeros).</summary>
    public bool MayBeNonZero(ulong gfn) => _frames[gfn] is not null;

    /// <summary>The frame's bytes if it may hold a non-zero byte, else empty (it reads as zeros).</summary>
    public ReadOnlySpan<byte> FrameIfAllocated(ulong gfn)
    {
        var chunk = _frames[gfn];
        return chunk is null ? default : chunk.AsSpan((int)((gfn << PageShift) & ChunkMask), PageSize);
    }

    /// <summary>The chunk of a frame about to be written with anything (it may then be non-zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte[] Writable(ulong gfn) => _frames[gfn] ?? MarkNonZero(gfn);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private byte[] MarkNonZero(ulong gfn)
    {
        ulong index = gfn >> (ChunkShift - PageShift);
        var chunk = _chunks[index];
        if (chunk is null)
        {
            ulong start = index << ChunkShift;
            _chunks[index] = chunk = new byte[Math.Min(1UL << ChunkShift, SizeBytes - start)];
        }
        return _frames[gfn] = chunk;
    }

    /// <summary>Bytes [address, address+length) that lie inside one frame, for writing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Slice(ulong address, int length) =>
        Frame(address >> PageShift).Slice((int)(address & PageMask), length);

    public ulong Read(ulong address, int size)
    {
        CheckRange(address, (ulong)size);
        if ((int)(address & PageMask) + size <= PageSize)
        {
            var chunk = _frames[address >> PageShift];
            if (chunk is null) return 0; // a frame of zeros: not touched
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
            var chunk = _frames[address >> PageShift];
            if (chunk is null)
            {
                if (value == 0) return; // zeros onto a frame of zeros (bits above the size only make this conservative)
                chunk = MarkNonZero(address >> PageShift);
            }
            ref byte at = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(chunk), (nint)(address & ChunkMask));
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

    /// <summary>A rep stos run inside one frame: <paramref name="length"/> bytes of
    /// <paramref name="elementSize"/>-byte elements of <paramref name="value"/>.</summary>
    public void Fill(ulong address, int length, int elementSize, ulong value)
    {
        CheckRange(address, (ulong)length);
        if (value == 0)
        {
            Zero(address, length);
            return;
        }
        var span = Slice(address, length);
        switch (elementSize)
        {
            case 1: span.Fill((byte)value); break;
            case 2: MemoryMarshal.Cast<byte, ushort>(span).Fill(LittleEndian((ushort)value)); break;
            case 4: MemoryMarshal.Cast<byte, uint>(span).Fill(LittleEndian((uint)value)); break;
            default: MemoryMarshal.Cast<byte, ulong>(span).Fill(LittleEndian(value)); break;
        }
    }

    /// <summary>A rep movs run: <paramref name="length"/> bytes from <paramref name="source"/> to
    /// <paramref name="destination"/>, each range inside one frame (as memmove; the caller keeps
    /// element-wise overlap semantics out of it). Copying a frame of zeros is clearing.</summary>
    public void Copy(ulong source, ulong destination, int length)
    {
        CheckRange(source, (ulong)length);
        CheckRange(destination, (ulong)length);
        if (_frames[source >> PageShift] is null)
            Zero(destination, length);
        else
            ReadBytes(source, Slice(destination, length));
    }

    /// <summary>Zeros bytes inside one frame; nothing to store if the frame holds only zeros, and a
    /// whole frame cleared is known to hold only zeros afterwards (clear_page).</summary>
    private void Zero(ulong address, int length)
    {
        ulong gfn = address >> PageShift;
        var chunk = _frames[gfn];
        if (chunk is null) return;
        chunk.AsSpan((int)(address & ChunkMask), length).Clear();
        if (length == PageSize) _frames[gfn] = null;
    }

    public void ReadBytes(ulong address, Span<byte> destination)
    {
        CheckRange(address, (ulong)destination.Length);
        while (!destination.IsEmpty)
        {
            int chunk = Math.Min(destination.Length, PageSize - (int)(address & PageMask));
            var frames = _frames[address >> PageShift];
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
