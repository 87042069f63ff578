using Akka.Actor;
using Farm.Simulation.Engine;
using Farm.Simulation.Guest;
using Farm.Simulation.Kvm;

namespace Farm.Actors.Engine;

/// <summary>
/// Owns the VM's shared shadow MMU. Serves requests in the order <see cref="ServiceOrder"/> (in
/// Farm.Simulation, shared with the sequential engine) gives: (timestamp, vcpu), and a request
/// only when no running vCPU could still issue an earlier one. Each request comes in the vCPU's
/// message; the VM actor never reads a vCPU's context. Steps of a multi-step request (an emulated rep
/// string) are re-queued at their own timestamps, so other vCPUs' requests interleave. Changes
/// to other vCPUs' views travel with their next reply.
/// <para>
/// A service round serves whatever the order allows. If its last reply leaves one vCPU running
/// and every other one waiting or done, nothing can be served before that vCPU's next request and
/// no other message can arrive: the reply lends the MMU (<see cref="MmuLease"/>) up to the
/// earliest request pending elsewhere, and the vCPU serves its own requests below it without a
/// message each. Whoever serves a step, it is the step the sequential engine serves next.
/// </para>
/// </summary>
internal sealed class VmActor : ReceiveActor
{
    private readonly GuestVm _vm;
    private readonly TaskCompletionSource<long> _completion;
    private readonly Action? _stopped;
    private readonly ServiceOrder _order; // the rule, shared with the sequential engine
    private readonly IActorRef[] _vcpus;
    private long _events;
    private bool _finished;
    private Exception? _error;
    private int _lessee = -1;          // the vCPU holding the MMU on lease
    private int _held = -1;            // the vCPU whose reply waits for the end of the service round
    private MmuStep _heldStep;

    /// <param name="completion">Completed once the VM actor and its vCPU actors have stopped.</param>
    /// <param name="stopped">Called then, before <paramref name="completion"/>.</param>
    public VmActor(GuestVm vm, Func<GuestVcpu, ValueTask> script, TaskCompletionSource<long> completion, Action? stopped = null)
    {
        _vm = vm;
        _completion = completion;
        _stopped = stopped;
        int n = vm.Vcpus.Length;
        _order = new ServiceOrder(n);
        _vcpus = new IActorRef[n];
        var dispatcher = Context.Props.Dispatcher;
        var self = Self;
        for (int i = 0; i < n; i++)
        {
            var vcpu = vm.Vcpus[i];
            _vcpus[i] = Context.ActorOf(Producer<VcpuActor>.Props(() => new VcpuActor(vcpu, script, self)).WithDispatcher(dispatcher), $"vcpu-{i}");
        }

        Receive<VcpuRequest>(r =>
        {
            Returned(r.Id, r.Served);
            if (r.Continuing) _order.Continue(r.Id, r.Time);
            else _order.Request(r.Id, r.Request ?? throw new InvalidOperationException($"vCPU {r.Id} sent a request without one"), r.Time);
            Serve();
        });
        Receive<VcpuDone>(d =>
        {
            Returned(d.Id, d.Served);
            _order.Finish(d.Id);
            Serve();
        });
        Receive<VcpuFailed>(f => Finish(f.Error));
    }

    protected override void PreStart()
    {
        foreach (var v in _vcpus) v.Tell(StartVcpu.Instance);
    }

    /// <summary>The trial's actors have all stopped (children stop first): the trial is over.</summary>
    protected override void PostStop()
    {
        _stopped?.Invoke();
        if (!_finished) _completion.TrySetException(new InvalidOperationException("the trial's actors were stopped before it finished"));
        else if (_error is null) _completion.TrySetResult(_events);
        else _completion.TrySetException(_error);
    }

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(e =>
        {
            Finish(e);
            return Directive.Stop;
        });

    /// <summary>A message from vCPU <paramref name="id"/>: if it held the MMU, the MMU is back.</summary>
    private void Returned(int id, long served)
    {
        _events += served;
        if (id == _lessee) _lessee = -1;
    }

    /// <summary>Serves whatever the order allows, then sends the round's last reply (with a lease if it may).</summary>
    private void Serve()
    {
        if (_lessee >= 0) return; // the MMU is lent (no message but the holder's, which returns it, can come)
        while (!_finished)
        {
            if (_order.AllDone)
            {
                Finish(null);
                return;
            }
            int next = _order.Next();
            if (next < 0 || !ServeOne(next)) break;
        }
        SendHeld(endOfRound: true);
    }

    private bool ServeOne(int id)
    {
        _events++;
        MmuStep step;
        try
        {
            step = _order.Serve(_vm.Mmu, _vm.Vcpus[id].Kvm, id);
        }
        catch (Exception e)
        {
            Finish(e);
            return false;
        }
        if (!step.Finished) return true;
        SendHeld(endOfRound: false); // two replies in one round: the earlier one goes now, without a lease
        _held = id;
        _heldStep = step;
        return true;
    }

    /// <summary>
    /// Sends the held reply. At the end of a round, if its vCPU is the only one running, the MMU
    /// goes with it, lent up to the earliest pending request (none: to the end).
    /// </summary>
    private void SendHeld(bool endOfRound)
    {
        if (_held < 0) return;
        int id = _held;
        _held = -1;
        if (_finished) return;
        MmuLease? lease = null;
        if (endOfRound && _order.HorizonFor(id) is { } horizon)
        {
            lease = new MmuLease(_vm.Mmu, horizon.Time, horizon.Id);
            _lessee = id;
        }
        _vcpus[id].Tell(new VcpuReply(_heldStep.Reply, _heldStep.Time, lease));
    }

    private void Finish(Exception? error)
    {
        if (_finished) return;
        _finished = true;
        _error = error;
        Context.Stop(Self);
    }
}
