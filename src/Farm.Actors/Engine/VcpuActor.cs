using Akka.Actor;
using Farm.Simulation.Guest;

namespace Farm.Actors.Engine;

/// <summary>
/// Owns one simulated vCPU and its guest address space. When the lease (<see cref="MmuLease"/>)
/// arrives it starts or resumes the vCPU's guest code, which runs locally until it awaits the MMU
/// or ends; then it records that in the lease's service order and serves on, in place, until a
/// request finishes: its own, and its guest code resumes; another vCPU's, and the lease goes to
/// that vCPU's actor. The model code is the same as the sequential engine's; this actor only runs it.
/// </summary>
internal sealed class VcpuActor(GuestVcpu vcpu, Func<GuestVcpu, ValueTask> script, IActorRef vm) : UntypedActor
{
    private ValueTask _task;

    protected override void OnReceive(object message)
    {
        if (message is not MmuLease lease)
        {
            Unhandled(message);
            return;
        }
        var ctx = vcpu.Context;
        try
        {
            if (lease.Start) _task = script(vcpu);
            else ctx.Resume(lease.Reply, lease.Time);
            do
            {
                // The guest code ran until it awaited the MMU or ended.
                if (_task.IsCompleted)
                {
                    _task.GetAwaiter().GetResult(); // rethrows a model failure of the guest code
                    lease.Finished(vcpu.Id);
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
                ctx.Resume(lease.Reply, lease.Time);
            }
            while (true);
        }
        catch (Exception e)
        {
            vm.Tell(new TrialFailed(e));
        }
    }
}
