using Akka.Actor;
using Farm.Simulation.Guest;

namespace Farm.Actors.Engine;

/// <summary>
/// Owns one simulated vCPU and its guest address space: runs its guest work locally between
/// interactions with the MMU, sends each request to the VM actor and resumes on the reply.
/// With a lease (<see cref="MmuLease"/>) it serves its own requests that come before the lease's
/// horizon itself, with no message, and sends the first one that does not. The model code is the
/// same as the sequential engine's; this actor only runs it.
/// </summary>
internal sealed class VcpuActor : ReceiveActor
{
    private readonly GuestVcpu _vcpu;
    private readonly Func<GuestVcpu, ValueTask> _script;
    private readonly IActorRef _vm;
    private ValueTask _task;

    public VcpuActor(GuestVcpu vcpu, Func<GuestVcpu, ValueTask> script, IActorRef vm)
    {
        _vcpu = vcpu;
        _script = script;
        _vm = vm;
        Receive<StartVcpu>(_ => Run(null));
        Receive<VcpuReply>(Run);
    }

    /// <summary>Runs guest code until it waits for the MMU beyond a lease or ends, and says which to the VM actor.</summary>
    private void Run(VcpuReply? reply)
    {
        var ctx = _vcpu.Context;
        long served = 0;
        try
        {
            if (reply is null) _task = _script(_vcpu);
            else ctx.Resume(reply.Reply, reply.Time);

            var lease = reply?.Lease;
            while (lease is not null && !_task.IsCompleted && ctx.Pending is { } request && lease.Admits(ctx.PendingTime, _vcpu.Id))
            {
                // The earliest request that can exist: every other vCPU waits or is done.
                served++;
                var step = lease.Mmu.Serve(_vcpu.Kvm, request, ctx.PendingTime);
                while (!step.Finished)
                {
                    if (!lease.Admits(step.Time, _vcpu.Id))
                    {
                        _vm.Tell(new VcpuRequest(_vcpu.Id, step.Time, null, Continuing: true, served));
                        return;
                    }
                    served++;
                    step = lease.Mmu.Continue(_vcpu.Kvm, step.Time);
                }
                ctx.Resume(step.Reply, step.Time);
            }

            if (_task.IsCompleted)
            {
                _task.GetAwaiter().GetResult(); // rethrows a model failure of the guest code
                _vm.Tell(new VcpuDone(_vcpu.Id, served));
            }
            else if (ctx.Pending is { } pending)
            {
                _vm.Tell(new VcpuRequest(_vcpu.Id, ctx.PendingTime, pending, Continuing: false, served));
            }
            else
            {
                throw new InvalidOperationException($"vCPU {_vcpu.Id} is neither waiting for the MMU nor finished");
            }
        }
        catch (Exception e)
        {
            _vm.Tell(new VcpuFailed(_vcpu.Id, e));
        }
    }
}
