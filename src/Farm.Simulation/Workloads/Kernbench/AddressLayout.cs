using Farm.Simulation.Guest;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Workloads.Kernbench;

/// <summary>
/// Where a process's mappings live, and which page cache files back them. Read-only text is
/// mapped shared so that fork skips it, as Linux's copy_page_range skips a VMA without an
/// anon_vma; .data of the binary and of libc are private and writable (copied on write);
/// heap and stack are anonymous. x86-64 uses the usual 0x400000 / 0x7f.. / 0x7ffc.. layout;
/// i386 the 0x08000000 / 0xb7.. / 0xbf.. one, below the 3 GiB split.
/// </summary>
public sealed class AddressLayout
{
    /// <summary>Writes every exec'd process makes at startup: two stack pages, one page of its
    /// binary's .data, two of libc's .data.</summary>
    public const int FixedWrites = 5;

    /// <summary>Page cache files (pages): binaries and the two libraries every process maps.
    /// Sizes are typical x86-64 distribution binaries (libbfd folded into as and ld, the GMP/MPFR/
    /// MPC libraries into cc1); only the touched counts enter the calibration.</summary>
    public static readonly IReadOnlyList<(string Name, ulong Pages)> Files =
    [
        ("make", 64), ("sh", 32), ("gcc", 256), ("cc1", 6144), ("as", 400),
        ("fixdep", 16), ("rm", 16), ("mv", 32), ("ld", 512), ("libc", 464), ("ld.so", 48),
    ];

    private const ulong DataPages = 256, LibcDataPages = 64, StackBytes = 8 * MiB, HeapBytes = GiB;

    private AddressLayout(ulong text, ulong data, ulong heap, ulong libc, ulong libcData, ulong ldso, ulong stackTop)
    {
        TextStart = text;
        DataStart = data;
        HeapStart = heap;
        LibcStart = libc;
        LibcDataStart = libcData;
        LdsoStart = ldso;
        StackTop = stackTop;
    }

    public static AddressLayout For(PagingMode mode) => mode.Bitness == 64
        ? new(0x40_0000, 0x600_0000, 0x800_0000, 0x7f00_0000_0000, 0x7f00_0020_0000, 0x7f00_0040_0000, 0x7ffc_0000_0000)
        : new(0x800_0000, 0xa00_0000, 0x1000_0000, 0xb700_0000, 0xb720_0000, 0xb740_0000, 0xbf80_0000);

    public ulong TextStart { get; }
    public ulong DataStart { get; }
    public ulong HeapStart { get; }
    public ulong LibcStart { get; }
    public ulong LibcDataStart { get; }
    public ulong LdsoStart { get; }
    public ulong StackTop { get; }

    /// <summary>The i-th stack page from the top (0 is the page just below StackTop).</summary>
    public ulong StackPage(int i) => StackTop - (ulong)(i + 1) * Page;

    /// <summary>The mappings of a process running <paramref name="binary"/>.</summary>
    public Vma[] Mappings(GuestVm vm, string binary)
    {
        var bin = vm.File(binary);
        var libc = vm.File("libc");
        var ldso = vm.File("ld.so");
        return
        [
            new Vma(TextStart, TextStart + bin.Pages * Page, VmaKind.FileShared, Writable: false, bin),
            new Vma(DataStart, DataStart + DataPages * Page, VmaKind.FilePrivate, Writable: true, bin),
            new Vma(HeapStart, HeapStart + HeapBytes, VmaKind.Anonymous, Writable: true),
            new Vma(LibcStart, LibcStart + libc.Pages * Page, VmaKind.FileShared, Writable: false, libc),
            new Vma(LibcDataStart, LibcDataStart + LibcDataPages * Page, VmaKind.FilePrivate, Writable: true, libc),
            new Vma(LdsoStart, LdsoStart + ldso.Pages * Page, VmaKind.FileShared, Writable: false, ldso),
            new Vma(StackTop - StackBytes, StackTop, VmaKind.Anonymous, Writable: true),
        ];
    }

    /// <summary>
    /// The i-th page of a file's hot set: a fixed permutation of the file's pages, the same for
    /// every process, so that processes running the same binary share its hot pages.
    /// </summary>
    public static ulong HotPage(ulong filePages, long i)
    {
        ulong stride = 0x9E37 % filePages;
        if (stride == 0) stride = 1;
        while (Gcd(stride, filePages) != 1) stride++;
        return ((ulong)i * stride) % filePages;
    }

    private static ulong Gcd(ulong a, ulong b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}
