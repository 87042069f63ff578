using System.Runtime.CompilerServices;
using Farm.Simulation.Guest;
using static Farm.Simulation.Workloads.GuestLayout;

namespace Farm.Simulation.Workloads.Kernbench;

/// <summary>How a time slice of a process ended.</summary>
public enum SliceEnd
{
    /// <summary>The slice's compute is used up; the process stays runnable.</summary>
    Preempted,
    /// <summary>The process forked a child and waits for it (<see cref="ImageTask.TakeChild"/>).</summary>
    Forked,
    /// <summary>make has nothing to start and waits for a job to finish.</summary>
    Blocked,
    /// <summary>The process is done and exits.</summary>
    Finished,
}

/// <summary>
/// A process running a program image: what it touches and computes, drawn when it execs.
/// Startup touches ld.so and libc pages and writes its stack and .data pages; then its compute is
/// spread evenly between touches of its binary's hot pages and new heap pages, so that a
/// time slice ends between two touches. Subclasses decide what comes after the compute.
/// </summary>
public abstract class ImageTask
{
    private GuestFile _binary = null!;
    private long _text, _heap, _textDone, _heapDone, _cyclesLeft, _untilTouch;
    private ImageTask? _child;

    protected ImageTask(VcpuScheduler scheduler, GuestProcess process, ProgramProfile program, RandomStream draws, uint unitDraw)
    {
        Scheduler = scheduler;
        Process = process;
        Program = program;
        Draws = draws;
        UnitDraw = unitDraw;
    }

    protected VcpuScheduler Scheduler { get; }
    protected GuestVcpu V => Scheduler.V;
    protected AddressLayout Layout => Scheduler.Layout;
    public GuestProcess Process { get; }
    public ProgramProfile Program { get; }
    /// <summary>The stream of the compile unit (or of make, or of the link) this process belongs to.</summary>
    protected RandomStream Draws { get; }
    /// <summary>The size draw of the compile unit this process belongs to.</summary>
    protected uint UnitDraw { get; }
    /// <summary>True once the image runs (after exec): only then are its pages its own.</summary>
    public bool Running { get; private set; }

    public abstract ValueTask<SliceEnd> Run(long sliceEnd);

    /// <summary>The child of the last <see cref="SliceEnd.Forked"/>, handed to the scheduler once.</summary>
    public ImageTask TakeChild()
    {
        var child = _child ?? throw new InvalidOperationException($"process {Process.Pid} has no forked child to hand over");
        _child = null;
        return child;
    }

    /// <summary>fork: the child gets a copy of this mm and will exec <paramref name="program"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    protected async ValueTask<ImageTask> Fork(ProgramProfile program)
    {
        var child = await V.Fork(Process);
        _child = new ProgramTask(Scheduler, child, program, Draws, UnitDraw);
        return _child;
    }

    /// <summary>Draws this run's sizes and touches the startup pages.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    protected async ValueTask Start(string binary)
    {
        var sampler = Scheduler.Sampler;
        _binary = V.Vm.File(binary);
        _text = Math.Min(Math.Max(0, sampler.Next(Program.TextPages, Draws)), (long)_binary.Pages);
        long anon = Program.ScalesWithUnit ? sampler.Vary(Program.AnonPages, UnitDraw) : sampler.Next(Program.AnonPages, Draws);
        _heap = Math.Max(0, anon - AddressLayout.FixedWrites);
        _cyclesLeft = Math.Max(0, Program.ScalesWithUnit ? sampler.Vary(Program.Cycles, UnitDraw) : sampler.Next(Program.Cycles, Draws));
        _untilTouch = _cyclesLeft / (_text + _heap + 1);
        Running = true;

        var vm = V.Vm;
        var ldso = vm.File("ld.so");
        var libc = vm.File("libc");
        long libcPages = Scheduler.Settings.LibcPages;
        long ldsoTouches = Math.Min(libcPages / 4, (long)ldso.Pages);
        long libcTouches = Math.Min(libcPages - ldsoTouches, (long)libc.Pages);
        for (long i = 0; i < ldsoTouches; i++) await V.Touch(Process, Layout.LdsoStart + AddressLayout.HotPage(ldso.Pages, i) * Page, write: false);
        for (long i = 0; i < libcTouches; i++) await V.Touch(Process, Layout.LibcStart + AddressLayout.HotPage(libc.Pages, i) * Page, write: false);
        for (int i = 0; i < AddressLayout.FixedWrites; i++) await V.Touch(Process, WriteTarget(i), write: true);
    }

    /// <summary>
    /// The compute, interleaved with the run-time touches (text pages and heap pages in
    /// proportion). Returns false when the slice ended first, true when the compute is done.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    protected async ValueTask<bool> Compute(long sliceEnd)
    {
        while (true)
        {
            if (_untilTouch > 0)
            {
                long room = sliceEnd - V.Clock;
                if (room <= 0) return false;
                long step = Math.Min(_untilTouch, room);
                V.Spend(step);
                _untilTouch -= step;
                _cyclesLeft -= step;
                continue;
            }
            long done = _textDone + _heapDone, total = _text + _heap;
            if (done == total) return true;
            if ((done + 1) * _text / total > done * _text / total)
                await V.Touch(Process, Layout.TextStart + AddressLayout.HotPage(_binary.Pages, _textDone++) * Page, write: false);
            else
                await V.Touch(Process, Layout.HeapStart + (ulong)_heapDone++ * Page, write: true);
            long left = total - done - 1;
            _untilTouch = left > 0 ? _cyclesLeft / (left + 1) : _cyclesLeft;
        }
    }

    /// <summary>The pages written around a fork, in order: stack, libc .data, the binary's .data,
    /// then the second stack and libc .data pages (all written at startup), then heap pages.</summary>
    protected ulong WriteTarget(int i) => i switch
    {
        0 => Layout.StackPage(0),
        1 => Layout.LibcDataStart,
        2 => Layout.DataStart,
        3 => Layout.StackPage(1),
        4 => Layout.LibcDataStart + Page,
        _ => Layout.HeapStart + (ulong)(i - AddressLayout.FixedWrites) * Page,
    };

    /// <summary>A forked child's writes before it execs (copied on write).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    protected async ValueTask ChildWrites()
    {
        for (int i = 0; i < Scheduler.Settings.ChildWrites; i++) await V.Touch(Process, WriteTarget(i), write: true);
    }

    /// <summary>A parent's writes once fork has returned (its ptes were write-protected by the fork).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    protected async ValueTask ParentWrites()
    {
        for (int i = 0; i < Scheduler.Settings.ParentWrites; i++) await V.Touch(Process, WriteTarget(i), write: true);
    }

    /// <summary>
    /// After a context switch the process reads its working set again: the stack, its first hot
    /// text pages and its most recent heap pages. Pages with a valid spte are hits; pages whose
    /// shadow was zapped meanwhile take a shadow fault (no guest fault: the guest pte is there).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask Retouch(int pages)
    {
        if (!Running || pages <= 0) return;
        await V.Touch(Process, Layout.StackPage(0), write: false);
        long text = Math.Min(_textDone, (pages - 1) / 2);
        for (long i = 0; i < text; i++)
            await V.Touch(Process, Layout.TextStart + AddressLayout.HotPage(_binary.Pages, i) * Page, write: false);
        long heap = Math.Min(_heapDone, pages - 1 - text);
        for (long i = 1; i <= heap; i++)
            await V.Touch(Process, Layout.HeapStart + (ulong)(_heapDone - i) * Page, write: false);
    }
}
