using Farm.Simulation.Guest;

namespace Farm.Simulation.Engine;

/// <summary>
/// The reference engine: one thread. Every runnable vCPU runs its guest work up to its next
/// request before the next request is served (<see cref="ServiceOrder"/>: by (timestamp, vcpu
/// id)), so no vCPU could still issue an earlier one. Multi-step requests (emulated rep strings)
/// are re-queued at each step's own timestamp; the steps due before every other vCPU's request
/// are served in one call to the MMU (still an event each).
/// </summary>
public static class SequentialEngine
{
    public static long Run(GuestVm vm, Func<GuestVcpu, ValueTask> script)
    {
        // Guest code never reads an AsyncLocal, so the execution context need not flow into its
        // awaits: with flow suppressed each resumption calls the state machine directly instead of
        // going through ExecutionContext.RunInternal. And guest continuations must run inline, on
        // this thread, when the engine resumes them: the guest model's pooled ValueTasks would post
        // them to a captured SynchronizationContext (a test framework's) instead. The run is
        // synchronous, so both are restored on this thread before Run returns.
        var flow = ExecutionContext.IsFlowSuppressed() ? default(AsyncFlowControl?) : ExecutionContext.SuppressFlow();
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            return Serve(vm, GuestVcpu.ThenHalt(script));
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
            flow?.Undo();
        }
    }

    private static long Serve(GuestVm vm, Func<GuestVcpu, ValueTask> script)
    {
        var vcpus = vm.Vcpus;
        var tasks = new ValueTask[vcpus.Length];
        var order = new ServiceOrder(vcpus.Length);
        long events = 0;

        for (int i = 0; i < vcpus.Length; i++)
        {
            tasks[i] = script(vcpus[i]);
            Stopped(i);
        }
        for (int id; (id = order.NextWithHorizon(out long horizonTime, out int horizonId)) >= 0;)
        {
            // Every other vCPU waits or is done (none runs here), so nothing they hold changes
            // while this one is served: its requests and steps stamped before the earliest of
            // theirs are the ones Next would pick, one after the other. They are served in a row,
            // here or, once its guest code runs, under the lease inside its awaits (VcpuContext),
            // which keeps the order and the event count.
            var v = vcpus[id];
            long through = ServiceOrder.LastBefore(id, horizonTime, horizonId);
            do
            {
                // The steps of an emulated rep string due before the horizon, in one call (an event each).
                var step = order.Serve(vm.Mmu, v.Kvm, id, through, out long steps);
                events += steps;
                if (!step.Finished) continue;
                v.Context.Lease(vm.Mmu, v.Kvm, horizonTime, horizonId);
                try
                {
                    v.Context.Resume(step.Reply, step.Time);
                }
                finally
                {
                    events += v.Context.EndLease();
                }
                Stopped(id);
            }
            while (order.HasPending(id) && ServiceOrder.Before(order.Time(id), id, horizonTime, horizonId));
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
            if (ctx.Continuing)
            {
                ctx.TakeContinuation(); // a request begun under the lease has steps after the horizon
                order.Continue(i, ctx.PendingTime);
                return;
            }
            if (ctx.Pending is null)
                throw new InvalidOperationException($"vCPU {i} is neither waiting for the MMU nor finished: guest code awaited something other than the MMU");
            order.Request(i, ctx.Pending, ctx.PendingTime);
        }
    }
}
