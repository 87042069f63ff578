using System.Runtime.CompilerServices;
using Farm.Simulation.Guest;

namespace Farm.Simulation.Workloads.Kernbench;

/// <summary>
/// The guest scheduler of one vCPU: round robin over the runnable jobs (make included), each
/// getting up to <c>workload.timeslice_cycles</c> of its clock before the next one runs. A switch
/// to another process is a context switch (a CR3 write); the process switched in reads its
/// working set again. On exit the vCPU switches straight to the next runnable process.
/// </summary>
public sealed class VcpuScheduler
{
    private readonly Queue<Job> _runnable = new();
    private readonly int _slots;
    private Job? _make;
    private bool _makeWaits;

    public VcpuScheduler(GuestVcpu vcpu, KernbenchSettings settings)
    {
        V = vcpu;
        Settings = settings;
        Layout = AddressLayout.For(vcpu.Mode);
        Sampler = new SizeSampler(vcpu.Random, settings.SpreadPct);
        _slots = settings.Slots(vcpu.Id);
        UnitsLeft = settings.UnitsOf(vcpu.Id);
        LinkPending = vcpu.Id == 0;
    }

    public GuestVcpu V { get; }
    public KernbenchSettings Settings { get; }
    public AddressLayout Layout { get; }
    public SizeSampler Sampler { get; }
    public long UnitsLeft { get; set; }
    public bool LinkPending { get; set; }
    public int ActiveJobs { get; private set; }
    public int FreeSlots => _slots - ActiveJobs;

    /// <summary>A job make has just forked becomes runnable.</summary>
    public void StartJob(ImageTask first)
    {
        ActiveJobs++;
        _runnable.Enqueue(new Job(first));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask Run()
    {
        await V.SwitchTo(null);
        var make = await V.CreateProcess(Layout.Mappings(V.Vm, Settings.Make.Binary));
        _make = new Job(new MakeTask(this, make, Settings.Make));
        _runnable.Enqueue(_make);
        GuestProcess? ran = null;
        while (_runnable.TryDequeue(out var job))
        {
            var task = job.Top;
            bool switchedIn = !ReferenceEquals(ran, task.Process);
            if (!ReferenceEquals(V.Current, task.Process)) await V.SwitchTo(task.Process);
            if (switchedIn) await task.Retouch(Settings.Retouch);
            ran = task.Process;
            switch (await task.Run(V.Clock + Settings.Timeslice))
            {
                case SliceEnd.Preempted:
                    _runnable.Enqueue(job);
                    break;
                case SliceEnd.Forked:
                    job.Push(task.TakeChild());
                    _runnable.Enqueue(job);
                    break;
                case SliceEnd.Blocked:
                    _makeWaits = true;
                    break;
                case SliceEnd.Finished:
                    Finish(job);
                    var next = _runnable.TryPeek(out var n) ? n.Top.Process : null;
                    await V.Exit(task.Process, next);
                    ran = null;
                    break;
            }
        }
    }

    /// <summary>The job's innermost process exits: its parent resumes, or the job ends and make,
    /// if it was waiting for a free slot, wakes up.</summary>
    private void Finish(Job job)
    {
        job.Pop();
        if (job.Depth > 0)
        {
            _runnable.Enqueue(job);
            return;
        }
        if (ReferenceEquals(job, _make)) return;
        ActiveJobs--;
        if (_makeWaits)
        {
            _makeWaits = false;
            _runnable.Enqueue(_make!);
        }
    }
}
