using Farm.Simulation.Guest;

namespace Farm.Simulation.Engine;

/// <summary>
/// The reference engine: one thread, a priority queue of the vCPUs' pending requests keyed by
/// (timestamp, vcpu id). Every runnable vCPU runs its guest work up to its next request before
/// the earliest request is served, so no vCPU could still issue an earlier one. Multi-step
/// requests (emulated rep strings) are re-queued at each step's own timestamp.
/// </summary>
public static class SequentialEngine
{
    public static long Run(GuestVm vm, Func<GuestVcpu, ValueTask> script)
    {
        var vcpus = vm.Vcpus;
        var tasks = new ValueTask[vcpus.Length];
        var continuing = new bool[vcpus.Length];
        var queue = new PriorityQueue<int, (long Time, int Id)>();
        long events = 0;

        script = GuestVcpu.ThenHalt(script);
        for (int i = 0; i < vcpus.Length; i++)
        {
            tasks[i] = script(vcpus[i]);
            Enqueue(i);
        }
        while (queue.TryDequeue(out int id, out var key))
        {
            events++;
            var v = vcpus[id];
            var step = continuing[id]
                ? vm.Mmu.Continue(v.Kvm, key.Time)
                : vm.Mmu.Serve(v.Kvm, v.Context.Pending!, key.Time);
            if (!step.Finished)
            {
                continuing[id] = true;
                queue.Enqueue(id, (step.Time, id));
                continue;
            }
            continuing[id] = false;
            v.Context.Resume(step.Reply, step.Time);
            Enqueue(id);
        }
        return events;

        void Enqueue(int i)
        {
            var ctx = vcpus[i].Context;
            if (tasks[i].IsCompleted)
            {
                tasks[i].GetAwaiter().GetResult(); // rethrows a model failure of the guest code
                return;
            }
            if (ctx.Pending is null)
                throw new InvalidOperationException($"vCPU {i} is neither waiting for the MMU nor finished: guest code awaited something other than the MMU");
            queue.Enqueue(i, (ctx.PendingTime, i));
        }
    }
}
