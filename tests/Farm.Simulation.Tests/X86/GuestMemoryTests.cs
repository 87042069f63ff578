using Farm.Simulation.X86;
using Xunit;

namespace Farm.Simulation.Tests.X86;

/// <summary>
/// GuestMemory's frames-of-zeros bookkeeping (a frame known to hold only zeros is not stored
/// to by a clear or a copy from another such frame): the bytes must always be those of plain
/// memory, whatever the bookkeeping skips.
/// </summary>
public sealed class GuestMemoryTests
{
    private const int Page = GuestMemory.PageSize;

    [Fact]
    public void A_frame_cleared_whole_reads_as_zeros_and_is_known_to_hold_only_zeros()
    {
        var m = new GuestMemory(4 * Page);
        m.WriteBytes(Page, Enumerable.Repeat((byte)0xab, Page).ToArray());
        Assert.True(m.MayBeNonZero(1));

        m.Fill(Page, Page, 8, 0); // clear_page as rep stosq

        Assert.False(m.MayBeNonZero(1));
        Assert.All(Bytes(m, Page, Page), b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_partial_clear_zeros_only_its_range_and_the_frame_may_still_be_non_zero()
    {
        var m = new GuestMemory(4 * Page);
        m.WriteBytes(Page, Enumerable.Repeat((byte)0xab, Page).ToArray());

        m.Fill(Page + 8, Page - 16, 8, 0);

        Assert.True(m.MayBeNonZero(1));
        var bytes = Bytes(m, Page, Page);
        Assert.All(bytes[..8], b => Assert.Equal(0xab, b));
        Assert.All(bytes[8..^8], b => Assert.Equal(0, b));
        Assert.All(bytes[^8..], b => Assert.Equal(0xab, b));
    }

    [Fact]
    public void Copying_a_frame_of_zeros_over_a_written_frame_clears_it()
    {
        var m = new GuestMemory(4 * Page);
        m.WriteBytes(2 * Page, Enumerable.Repeat((byte)0x5a, Page).ToArray());

        m.Copy(Page, 2 * Page, Page); // copy_page from a never-written frame

        Assert.False(m.MayBeNonZero(2));
        Assert.All(Bytes(m, 2 * Page, Page), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Reads_and_zero_writes_leave_a_frame_of_zeros_untouched_a_non_zero_write_does_not()
    {
        var m = new GuestMemory(4 * Page);
        Assert.Equal(0UL, m.Read(Page + 16, 8));
        m.Write(Page + 16, 8, 0);
        Assert.False(m.MayBeNonZero(1));
        Assert.True(m.FrameIfAllocated(1).IsEmpty);

        m.Write(Page + 16, 2, 0x1234);

        Assert.True(m.MayBeNonZero(1));
        Assert.Equal(0x1234UL, m.Read(Page + 16, 8));
        Assert.Equal(0x34, m.FrameIfAllocated(1)[16]);
    }

    /// <summary>Random writes, fills and copies (one frame each, as the string handler's bulk
    /// runs are) against a plain array: every byte must agree after every operation, and a frame
    /// said to hold only zeros must hold only zeros.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_operations_agree_with_plain_memory(int seed)
    {
        const int frames = 8;
        var m = new GuestMemory(frames * Page);
        var plain = new byte[frames * Page];
        var rng = new Random(seed);
        for (int step = 0; step < 3000; step++)
        {
            int frame = rng.Next(frames);
            bool whole = rng.Next(3) == 0;
            int offset = whole ? 0 : rng.Next(Page);
            int length = whole ? Page : rng.Next(1, Page - offset + 1);
            ulong at = (ulong)(frame * Page + offset);
            switch (rng.Next(5))
            {
                case 0: // a store of 1, 2, 4 or 8 bytes, zero half of the time (may straddle frames)
                {
                    int size = 1 << rng.Next(4);
                    if (at + (ulong)size > (ulong)plain.Length) break;
                    ulong value = rng.Next(2) == 0 ? 0 : (ulong)rng.NextInt64();
                    m.Write(at, size, value);
                    for (int i = 0; i < size; i++) plain[(int)at + i] = (byte)(value >> (8 * i));
                    break;
                }
                case 1:
                case 2: // rep stos of zeros (clear_page when whole)
                {
                    int size = 1 << rng.Next(4);
                    length -= length % size;
                    if (length == 0) break;
                    m.Fill(at, length, size, 0);
                    Array.Clear(plain, (int)at, length);
                    break;
                }
                case 3: // rep stos of a non-zero element
                {
                    int size = 1 << rng.Next(4);
                    length -= length % size;
                    if (length == 0) break;
                    ulong value = (ulong)rng.NextInt64(1, long.MaxValue) & (size == 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1);
                    if (value == 0) value = 1;
                    m.Fill(at, length, size, value);
                    for (int i = 0; i < length; i++) plain[(int)at + i] = (byte)(value >> (8 * (i % size)));
                    break;
                }
                default: // rep movs from another frame (copy_page when whole)
                {
                    int source = (rng.Next(frames - 1) + frame + 1) % frames;
                    ulong from = (ulong)(source * Page + offset);
                    m.Copy(from, at, length);
                    Array.Copy(plain, (int)from, plain, (int)at, length);
                    break;
                }
            }
            Assert.Equal(plain, Bytes(m, 0, plain.Length));
            for (int f = 0; f < frames; f++) // "holds only zeros" is never claimed wrongly
                if (!m.MayBeNonZero((ulong)f)) Assert.True(plain.AsSpan(f * Page, Page).IndexOfAnyExcept((byte)0) < 0);
        }
    }

    private static byte[] Bytes(GuestMemory m, ulong address, int length)
    {
        var bytes = new byte[length];
        m.ReadBytes(address, bytes);
        return bytes;
    }
}
