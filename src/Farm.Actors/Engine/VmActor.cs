using Akka.Actor;
using Farm.Simulation.Guest;

namespace Farm.Actors.Engine;

/// <summary>
/// Owns the VM and its shared shadow MMU, and one child actor per vCPU. It lends the MMU, with
/// its service order, as a lease (<see cref="MmuLease"/>) that the vCPU actors pass on to each
/// other in the order of service: first to vCPU 0 to start its guest code. The lease comes back
/// when every vCPU is done; a model failure ends the trial with that error. Then it stops its
/// children and itself, and the trial's task completes.
/// </summary>
internal sealed class VmActor : UntypedActor
{
    private readonly TaskCompletionSource<long> _completion;
    private readonly Action? _stopped;
    private readonly MmuLease _lease;
    private bool _finished;
    private Exception? _error;

    /// <param name="completion">Completed once the VM actor and its vCPU actors have stopped.</param>
    /// <param name="stopped">Called then, before <paramref name="completion"/>.</param>
    public VmActor(GuestVm vm, Func<GuestVcpu, ValueTask> script, TaskCompletionSource<long> completion, Action? stopped = null)
    {
        _completion = completion;
        _stopped = stopped;
        var vcpus = new IActorRef[vm.Vcpus.Length];
        var dispatcher = Context.Props.Dispatcher;
        var mailbox = Context.Props.Mailbox; // the strand's lease mailbox, else the default
        var self = Self;
        for (int i = 0; i < vcpus.Length; i++)
        {
            var vcpu = vm.Vcpus[i];
            vcpus[i] = Context.ActorOf(Producer<VcpuActor>.Props(() => new VcpuActor(vcpu, script, self)).WithDispatcher(dispatcher).WithMailbox(mailbox), $"vcpu-{i}");
        }
        _lease = new MmuLease(vm, self, vcpus);
    }

    protected override void PreStart() => _lease.HandOn(); // vCPU 0 starts

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case MmuLease:
                Finish(null); // every vCPU is done
                break;
            case TrialFailed f:
                Finish(f.Error);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>The trial's actors have all stopped (children stop first): the trial is over.</summary>
    protected override void PostStop()
    {
        _stopped?.Invoke();
        if (!_finished) _completion.TrySetException(new InvalidOperationException("the trial's actors were stopped before it finished"));
        else if (_error is null) _completion.TrySetResult(_lease.Events);
        else _completion.TrySetException(_error);
    }

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(e =>
        {
            Finish(e);
            return Directive.Stop;
        });

    private void Finish(Exception? error)
    {
        if (_finished) return;
        _finished = true;
        _error = error;
        Context.Stop(Self);
    }
}
