using System.Runtime.CompilerServices;
using Farm.Simulation.Guest;

namespace Farm.Simulation.Workloads.Kernbench;

/// <summary>
/// make on one vCPU (a sub-make of the jobserver: each vCPU has its own, since a process is
/// pinned to the vCPU that created it). It starts, then, while it has units and free job slots,
/// computes a while (dependency checks) and forks a shell per unit, writing a few pages of its
/// own after each fork. With every slot busy it waits for a job to finish. vCPU 0's make forks
/// the final link once its own units are done, then exits when nothing is left.
/// </summary>
public sealed class MakeTask(VcpuScheduler scheduler, GuestProcess process, ProgramProfile program)
    : ImageTask(scheduler, process, program, scheduler.Sampler.MakeStream(), unitDraw: 0)
{
    private bool _started, _computed;
    private long _dispatched;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<SliceEnd> Run(long sliceEnd)
    {
        var s = Scheduler;
        if (!_started)
        {
            _started = true;
            await Start(Program.Binary);
        }
        if (!_computed)
        {
            if (!await Compute(sliceEnd)) return SliceEnd.Preempted;
            _computed = true;
        }
        while (true)
        {
            if (s.UnitsLeft > 0 && s.FreeSlots > 0)
            {
                if (V.Clock >= sliceEnd) return SliceEnd.Preempted;
                V.Spend(s.Sampler.Next(Program.Cycles, Draws));
                var child = await V.Fork(Process);
                await ParentWrites();
                long unit = _dispatched++;
                s.StartJob(new ProgramTask(s, child, s.Settings.Unit, s.Sampler.UnitStream(unit), s.Sampler.UnitDraw(unit)));
                s.UnitsLeft--;
                continue;
            }
            if (s.ActiveJobs > 0) return SliceEnd.Blocked;
            if (s.LinkPending)
            {
                s.LinkPending = false;
                var child = await V.Fork(Process);
                await ParentWrites();
                s.StartJob(new ProgramTask(s, child, s.Settings.Link, s.Sampler.LinkStream(), unitDraw: 0));
                continue;
            }
            return SliceEnd.Finished;
        }
    }
}
