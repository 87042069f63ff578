using Farm.Simulation.Guest;

namespace Farm.Simulation.Engine;

/// <summary>
/// The reference engine: one thread. Every runnable vCPU runs its guest work up to its next
/// request before the next request is served (<see cref="ServiceOrder"/>: by (timestamp, vcpu
/// id)), so no vCPU could still issue an earlier one. Multi-step requests (emulated rep strings)
/// are re-queued at each step's own timestamp.
/// </summary>
public static class SequentialEngine
{
    public static long Run(GuestVm vm, Func<GuestVcpu, ValueTask> script)
    {
        var vcpus = vm.Vcpus;
        var tasks = new ValueTask[vcpus.Length];
        var order = new ServiceOrder(vcpus.Length);
        long events = 0;

        script = GuestVcpu.ThenHalt(script);
        for (int i = 0; i < vcpus.Length; i++)
        {
            tasks[i] = script(vcpus[i]);
            Stopped(i);
        }
        for (int id; (id = order.Next()) >= 0;)
        {
            events++;
            var v = vcpus[id];
            var step = order.Serve(vm.Mmu, v.Kvm, id);
            if (!step.Finished) continue;
            v.Context.Resume(step.Reply, step.Time);
            Stopped(id);
        }
        return events;

        // vCPU i's guest code ran until it awaited the MMU or ended.
        void Stopped(int i)
        {
            var ctx = vcpus[i].Context;
            if (tasks[i].IsCompleted)
            {
                tasks[i].GetAwaiter().GetResult(); // rethrows a model failure of the guest code
                order.Finish(i);
                return;
            }
            if (ctx.Pending is null)
                throw new InvalidOperationException($"vCPU {i} is neither waiting for the MMU nor finished: guest code awaited something other than the MMU");
            order.Request(i, ctx.Pending, ctx.PendingTime);
        }
    }
}
