using Akka.Actor;
using Farm.Simulation.Guest;

namespace Farm.Actors.Engine;

/// <summary>
/// Owns one simulated vCPU and its guest address space. When the lease (<see cref="MmuLease"/>)
/// arrives it starts or resumes the vCPU's guest code, which runs locally (its requests that come
/// next in the order served inside their awaits, <see cref="MmuLease.Lend"/>) until it awaits one
/// that does not, or ends; then it records that in the lease's service order and serves
/// on, in place, until a request finishes: its own, and its guest code resumes; another vCPU's,
/// and the lease goes to that vCPU's actor. The model code is the same as the sequential engine's;
/// this actor only runs it.
/// </summary>
internal sealed class VcpuActor(GuestVcpu vcpu, Func<GuestVcpu, ValueTask> script, IActorRef vm) : UntypedActor
{
    private readonly bool _onStrand = Context.Dispatcher is TrialStrand;
    private ValueTask _task;

    protected override void OnReceive(object message)
    {
        if (message is not MmuLease lease)
        {
            Unhandled(message);
            return;
        }
        // Guest code reads no AsyncLocal, so the execution context need not flow into its awaits
        // (as on the sequential engine): with flow suppressed each resumption calls the state
        // machine directly instead of through ExecutionContext.RunInternal. A trial's strand runs
        // its actors so already (TrialStrand); on another dispatcher, suppressed for this message.
        var flow = _onStrand || ExecutionContext.IsFlowSuppressed() ? default(AsyncFlowControl?) : ExecutionContext.SuppressFlow();
        try
        {
            Run(lease);
        }
        catch (Exception e)
        {
            vm.Tell(new TrialFailed(e));
        }
        finally
        {
            flow?.Undo();
        }
    }

    private void Run(MmuLease lease)
    {
        var ctx = vcpu.Context;
        bool start = lease.Start;
        while (true)
        {
            lease.Lend(vcpu);
            try
            {
                if (start) _task = script(vcpu);
                else ctx.Resume(lease.Reply, lease.Time);
            }
            finally
            {
                lease.Reclaim(vcpu);
            }
            start = false;
            // The guest code ran until it awaited a request the lease could not serve in place, or ended.
            if (_task.IsCompleted)
            {
                _task.GetAwaiter().GetResult(); // rethrows a model failure of the guest code
                lease.Finished(vcpu.Id);
            }
            else if (ctx.Continuing)
            {
                ctx.TakeContinuation(); // a request begun inside the await has steps after the horizon
                lease.Continues(vcpu.Id, ctx.PendingTime);
            }
            else if (ctx.Pending is { } request)
            {
                lease.Waits(vcpu.Id, request, ctx.PendingTime);
            }
            else
            {
                throw new InvalidOperationException($"vCPU {vcpu.Id} is neither waiting for the MMU nor finished: guest code awaited something other than the MMU");
            }
            if (!lease.ServeFor(vcpu.Id)) return; // the lease went on
        }
    }
}
