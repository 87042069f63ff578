using Akka.Actor;
using Farm.Simulation.Guest;

namespace Farm.Actors.Engine;

/// <summary>
/// Owns one simulated vCPU and its guest address space: runs its guest work locally between
/// interactions with the MMU, sends each request to the VM actor and resumes on the reply.
/// The model code is the same as the sequential engine's; this actor only runs it.
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
        Receive<StartVcpu>(_ => Step(() => _task = _script(_vcpu)));
        Receive<VcpuReply>(r => Step(() => _vcpu.Context.Resume(r.Reply, r.Time)));
    }

    /// <summary>Runs guest code until it waits for the MMU or ends, and says which to the VM actor.</summary>
    private void Step(Action run)
    {
        try
        {
            run();
            if (_task.IsCompleted)
            {
                _task.GetAwaiter().GetResult();
                _vm.Tell(new VcpuDone(_vcpu.Id));
            }
            else if (_vcpu.Context.Pending is not null)
            {
                _vm.Tell(new VcpuRequest(_vcpu.Id, _vcpu.Context.PendingTime));
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
