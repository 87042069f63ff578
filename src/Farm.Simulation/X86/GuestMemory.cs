using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Farm.Simulation.X86;

/// <summary>
/// Guest physical memory: 4 KiB frames allocated on first touch. Raw access only;
/// write protection is the <see cref="IWriteGate"/>'s business, not the memory's.
/// </summary>
public sealed class GuestMemory
{
    public const int PageShift = 12;
    public const int PageSize = 1 << PageShift;
    public const ulong PageMask = PageSize - 1;

    private readonly byte[]?[] _frames;

    public GuestMemory(ulong sizeBytes)
    {
        if (sizeBytes == 0 || (sizeBytes & PageMask) != 0 || (sizeBytes >> PageShift) > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(sizeBytes), sizeBytes, "guest memory size must be a non-zero multiple of 4096");
        SizeBytes = sizeBytes;
        _frames = new byte[]?[sizeBytes >> PageShift];
    }

    public ulong SizeBytes { get; }
    public ulong FrameCount => (ulong)_frames.Length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Contains(ulong address, ulong length) =>
        address < SizeBytes && length <= SizeBytes - address;

    /// <summary>The frame's bytes, allocated (zeroed) on first use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Frame(ulong gfn) => _frames[gfn] ??= new byte[PageSize];

    /// <summary>Bytes [address, address+length) that lie inside one frame.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Slice(ulong address, int length) =>
        Frame(address >> PageShift).Slice((int)(address & PageMask), length);

    public ulong Read(ulong address, int size)
    {
        CheckRange(address, (ulong)size);
        int offset = (int)(address & PageMask);
        if (offset + size <= PageSize)
        {
            var frame = _frames[address >> PageShift];
            if (frame is null) return 0;
            return size switch
            {
                1 => frame[offset],
                2 => BinaryPrimitives.ReadUInt16LittleEndian(frame.AsSpan(offset)),
                4 => BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(offset)),
                _ => BinaryPrimitives.ReadUInt64LittleEndian(frame.AsSpan(offset)),
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
        int offset = (int)(address & PageMask);
        if (offset + size <= PageSize)
        {
            var span = Frame(address >> PageShift)[offset..];
            switch (size)
            {
                case 1: span[0] = (byte)value; break;
                case 2: BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)value); break;
                case 4: BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)value); break;
                default: BinaryPrimitives.WriteUInt64LittleEndian(span, value); break;
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
            var frame = _frames[address >> PageShift];
            if (frame is null) destination[..chunk].Clear();
            else frame.AsSpan((int)(address & PageMask), chunk).CopyTo(destination);
            destination = destination[chunk..];
            address += (ulong)chunk;
        }
    }

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
