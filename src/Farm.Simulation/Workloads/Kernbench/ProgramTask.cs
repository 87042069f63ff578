using System.Runtime.CompilerServices;
using Farm.Simulation.Guest;

namespace Farm.Simulation.Workloads.Kernbench;

/// <summary>
/// A forked process that execs a program: it writes a few pages of its parent's image (copy on
/// write), execs, runs the program's startup and compute, then forks each of the program's
/// children in turn and waits for it (writing a few pages of its own when the wait returns),
/// and exits.
/// </summary>
public sealed class ProgramTask(VcpuScheduler scheduler, GuestProcess process, ProgramProfile program, RandomStream draws, uint unitDraw)
    : ImageTask(scheduler, process, program, draws, unitDraw)
{
    private enum Phase { PreExec, Compute, Children, AfterChild }

    private Phase _phase;
    private int _nextChild;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<SliceEnd> Run(long sliceEnd)
    {
        while (true)
        {
            switch (_phase)
            {
                case Phase.PreExec:
                    await ChildWrites();
                    await V.Exec(Process, Layout.Mappings(V.Vm, Program.Binary));
                    await Start(Program.Binary);
                    _phase = Phase.Compute;
                    break;
                case Phase.Compute:
                    if (!await Compute(sliceEnd)) return SliceEnd.Preempted;
                    _phase = Phase.Children;
                    break;
                case Phase.Children:
                    if (_nextChild == Program.Children.Count) return SliceEnd.Finished;
                    await Fork(Program.Children[_nextChild++]);
                    _phase = Phase.AfterChild;
                    return SliceEnd.Forked;
                case Phase.AfterChild:
                    await ParentWrites();
                    _phase = Phase.Children;
                    break;
            }
        }
    }
}
