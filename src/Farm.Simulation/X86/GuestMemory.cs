using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Farm.Simulation.X86;

/// <summary>
/// Guest physical memory, allocated on first touch and read as zeros until then. Raw access
/// only; write protection is the <see cref="IWriteGate"/>'s business, not the memory's.
/// Storage is in 1 MiB chunks of 256 frames: each is one pinned array, allocated zeroed once
/// and never moved or promoted by the GC (4 KiB arrays per frame were copied from generation to
/// generation, about a fifth of a kernbench run's CPU time; docs/performance.md). Pinned, each
/// frame has a fixed host address, and the frames start on host page boundaries: a guest frame
/// is one host page (unaligned, each frame's first and last bytes were on two host pages, so a
/// page table touched at both ends cost two host page faults and 8 KiB of RSS).
/// <para>
/// Each frame also records whether it may hold a non-zero byte: <c>_frames[gfn]</c> is its host
/// address if so, 0 if the frame reads as all zeros (never written, or cleared whole since).
/// Such a frame is not touched by reads (no host page fault), writing zeros to it stores
/// nothing, clearing it again needs no memset, and copying it is clearing. The guest's
/// clear_page of a data frame (whose contents the model never writes) then costs no host memory
/// traffic, and an untouched chunk stays unallocated. The guest still runs the routine and is
/// charged for it; only the host's redundant stores go (docs/performance.md, "Kernbench: guest
/// side and runtime").
/// </para>
/// </summary>
public sealed unsafe class GuestMemory
{
    public const int PageShift = 12;
    public const int PageSize = 1 << PageShift;
    public const ulong PageMask = PageSize - 1;
    private const int ChunkShift = 20;
    private const ulong ChunkMask = (1UL << ChunkShift) - 1;

    private readonly byte[]?[] _chunks;
    // Where a chunk's first frame starts in its array: the first host page boundary.
    private readonly int[] _chunkStart;
    // Per frame: its host address if the frame may hold a non-zero byte, else 0 (all zeros). One
    // load answers both "where" and "is it zero" on every read and write; no GC reference, so
    // no write barrier when it changes. Valid while the chunks are (this object holds them).
    private readonly nint[] _frames;

    public GuestMemory(ulong sizeBytes)
    {
        if (sizeBytes == 0 || (sizeBytes & PageMask) != 0 || (sizeBytes >> PageShift) > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(sizeBytes), sizeBytes, "guest memory size must be a non-zero multiple of 4096");
        SizeBytes = sizeBytes;
        FrameCount = sizeBytes >> PageShift;
        _chunks = new byte[]?[(sizeBytes + ChunkMask) >> ChunkShift];
        _chunkStart = new int[_chunks.Length];
        _frames = new nint[FrameCount];
    }

    public ulong SizeBytes { get; }
    public ulong FrameCount { get; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Contains(ulong address, ulong length) =>
        address < SizeBytes && length <= SizeBytes - address;

    /// <summary>The frame's bytes for writing, allocated (zeroed) on first use.</summary>
    public Span<byte> Frame(ulong gfn)
    {
        if (_frames[gfn] == 0) MarkNonZero(gfn); // the caller may write anything
        return FrameSpan(gfn, 0, PageSize);
    }

    /// <summary>Whether the frame may hold a non-zero byte (false: it reads as all zeros).</summary>
    public bool MayBeNonZero(ulong gfn) => _frames[gfn] != 0;

    /// <summary>The frame's bytes if it may hold a non-zero byte, else empty (it reads as zeros).</summary>
    public ReadOnlySpan<byte> FrameIfAllocated(ulong gfn) =>
        _frames[gfn] == 0 ? default : FrameSpan(gfn, 0, PageSize);

    /// <summary>Part of a frame's bytes, as a span of its chunk (which the span keeps alive).</summary>
    private Span<byte> FrameSpan(ulong gfn, int offset, int length)
    {
        ulong index = gfn >> (ChunkShift - PageShift);
        return _chunks[index]!.AsSpan(_chunkStart[index] + (int)((gfn << PageShift) & ChunkMask) + offset, length);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private nint MarkNonZero(ulong gfn)
    {
        ulong index = gfn >> (ChunkShift - PageShift);
        var chunk = _chunks[index];
        if (chunk is null)
        {
            int bytes = (int)Math.Min(1UL << ChunkShift, SizeBytes - (index << ChunkShift));
            // Zeroed, pinned, and a page longer, so the frames can start on a host page boundary.
            chunk = GC.AllocateArray<byte>(bytes + PageSize, pinned: true);
            nint data = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(chunk));
            _chunkStart[index] = (int)(((data + (PageSize - 1)) & ~(nint)(PageSize - 1)) - data);
            _chunks[index] = chunk;
        }
        return _frames[gfn] = (nint)Unsafe.AsPointer(ref chunk[_chunkStart[index] + (int)((gfn << PageShift) & ChunkMask)]);
    }

    /// <summary>Bytes [address, address+length) that lie inside one frame, for writing.</summary>
    public Span<byte> Slice(ulong address, int length)
    {
        ulong gfn = address >> PageShift;
        if (_frames[gfn] == 0) MarkNonZero(gfn);
        return FrameSpan(gfn, (int)(address & PageMask), length);
    }

    public ulong Read(ulong address, int size)
    {
        CheckRange(address, (ulong)size);
        if ((int)(address & PageMask) + size <= PageSize)
        {
            nint frame = _frames[address >> PageShift];
            if (frame == 0) return 0; // a frame of zeros: not touched
            // In range: CheckRange bounded the address, and the access stays inside one frame.
            byte* at = (byte*)frame + (address & PageMask);
            ulong value = size switch
            {
                1 => *at,
                2 => LittleEndian(Unsafe.ReadUnaligned<ushort>(at)),
                4 => LittleEndian(Unsafe.ReadUnaligned<uint>(at)),
                _ => LittleEndian(Unsafe.ReadUnaligned<ulong>(at)),
            };
            GC.KeepAlive(this); // the chunks, until the read is done
            return value;
        }
        ulong result = 0;
        for (int i = 0; i < size; i++)
            result |= (ulong)Read(address + (ulong)i, 1) << (8 * i);
        return result;
    }

    public void Write(ulong address, int size, ulong value)
    {
        CheckRange(address, (ulong)size);
        if ((int)(address & PageMask) + size <= PageSize)
        {
            nint frame = _frames[address >> PageShift];
            if (frame == 0)
            {
                if (value == 0) return; // zeros onto a frame of zeros (bits above the size only make this conservative)
                frame = MarkNonZero(address >> PageShift);
            }
            byte* at = (byte*)frame + (address & PageMask);
            switch (size)
            {
                case 1: *at = (byte)value; break;
                case 2: Unsafe.WriteUnaligned(at, LittleEndian((ushort)value)); break;
                case 4: Unsafe.WriteUnaligned(at, LittleEndian((uint)value)); break;
                default: Unsafe.WriteUnaligned(at, LittleEndian(value)); break;
            }
            GC.KeepAlive(this);
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
        if (_frames[source >> PageShift] == 0)
            Zero(destination, length);
        else
            ReadBytes(source, Slice(destination, length));
    }

    /// <summary>Zeros bytes inside one frame; nothing to store if the frame holds only zeros, and a
    /// whole frame cleared is known to hold only zeros afterwards (clear_page).</summary>
    private void Zero(ulong address, int length)
    {
        ulong gfn = address >> PageShift;
        if (_frames[gfn] == 0) return;
        FrameSpan(gfn, (int)(address & PageMask), length).Clear();
        if (length == PageSize) _frames[gfn] = 0;
    }

    public void ReadBytes(ulong address, Span<byte> destination)
    {
        CheckRange(address, (ulong)destination.Length);
        while (!destination.IsEmpty)
        {
            int chunk = Math.Min(destination.Length, PageSize - (int)(address & PageMask));
            ulong gfn = address >> PageShift;
            if (_frames[gfn] == 0) destination[..chunk].Clear();
            else FrameSpan(gfn, (int)(address & PageMask), chunk).CopyTo(destination);
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
