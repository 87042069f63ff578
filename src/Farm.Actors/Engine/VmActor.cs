using Akka.Actor;
using Farm.Simulation.Guest;
using Farm.Simulation.Kvm;

namespace Farm.Actors.Engine;

/// <summary>
/// Owns the VM's shared shadow MMU. Serves requests strictly in (timestamp, vcpu) order, and a
/// request only when no running vCPU could still issue an earlier one (a vCPU that resumed at r
/// issues its next request at r + 1 or later). Steps of a multi-step request (an emulated rep
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
    private enum State : byte { Running, Waiting, Continuing, Done }

    private readonly GuestVm _vm;
    private readonly TaskCompletionSource<long> _completion;
    private readonly Action? _stopped;
    private readonly State[] _state;
    private readonly long[] _time;     // Waiting/Continuing: the request's timestamp; Running: resume time
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
        _state = new State[n];
        _time = new long[n];
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
            _state[r.Id] = r.Continuing ? State.Continuing : State.Waiting;
            _time[r.Id] = r.Time;
            Serve();
        });
        Receive<VcpuDone>(d =>
        {
            Returned(d.Id, d.Served);
            _state[d.Id] = State.Done;
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
            int next = -1;
            bool anyActive = false;
            for (int i = 0; i < _state.Length; i++)
            {
                if (_state[i] == State.Done) continue;
                anyActive = true;
                if (_state[i] is State.Waiting or State.Continuing && (next < 0 || _time[i] < _time[next])) next = i;
            }
            if (!anyActive)
            {
                Finish(null);
                return;
            }
            if (next < 0 || Blocked(next) || !ServeOne(next)) break;
        }
        SendHeld(endOfRound: true);
    }

    /// <summary>Whether a running vCPU j, resumed at _time[j], could still request (_time[j] + 1, j) before <paramref name="next"/>.</summary>
    private bool Blocked(int next)
    {
        for (int j = 0; j < _state.Length; j++)
            if (_state[j] == State.Running && (_time[j] + 1 < _time[next] || (_time[j] + 1 == _time[next] && j < next))) return true;
        return false;
    }

    private bool ServeOne(int id)
    {
        _events++;
        var v = _vm.Vcpus[id];
        MmuStep step;
        try
        {
            step = _state[id] == State.Continuing
                ? _vm.Mmu.Continue(v.Kvm, _time[id])
                : _vm.Mmu.Serve(v.Kvm, v.Context.Pending!, _time[id]);
        }
        catch (Exception e)
        {
            Finish(e);
            return false;
        }
        _time[id] = step.Time;
        if (!step.Finished)
        {
            _state[id] = State.Continuing;
            return true;
        }
        _state[id] = State.Running;
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
        if (endOfRound)
        {
            long horizonTime = long.MaxValue;
            int horizonId = int.MaxValue;
            bool alone = true;
            for (int j = 0; j < _state.Length && alone; j++)
            {
                if (j == id || _state[j] == State.Done) continue;
                if (_state[j] == State.Running) alone = false;
                else if (_time[j] < horizonTime || (_time[j] == horizonTime && j < horizonId))
                {
                    horizonTime = _time[j];
                    horizonId = j;
                }
            }
            if (alone)
            {
                lease = new MmuLease(_vm.Mmu, horizonTime, horizonId);
                _lessee = id;
            }
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
