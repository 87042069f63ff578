using Akka.Actor;
using Farm.Simulation.Guest;

namespace Farm.Actors.Engine;

/// <summary>
/// Owns the VM's shared shadow MMU. Serves requests strictly in (timestamp, vcpu) order, and a
/// request only when no running vCPU could still issue an earlier one (a vCPU that resumed at r
/// issues its next request at r + 1 or later). Steps of a multi-step request (an emulated rep
/// string) are re-queued at their own timestamps, so other vCPUs' requests interleave. Changes
/// to other vCPUs' views travel with their next reply.
/// </summary>
internal sealed class VmActor : ReceiveActor
{
    private enum State : byte { Running, Waiting, Continuing, Done }

    private readonly GuestVm _vm;
    private readonly TaskCompletionSource<long> _completion;
    private readonly State[] _state;
    private readonly long[] _time;     // Waiting/Continuing: the request's timestamp; Running: resume time
    private readonly IActorRef[] _vcpus;
    private long _events;
    private bool _finished;

    public VmActor(GuestVm vm, Func<GuestVcpu, ValueTask> script, TaskCompletionSource<long> completion)
    {
        _vm = vm;
        _completion = completion;
        int n = vm.Vcpus.Length;
        _state = new State[n];
        _time = new long[n];
        _vcpus = new IActorRef[n];
        for (int i = 0; i < n; i++)
            _vcpus[i] = Context.ActorOf(Props.Create(() => new VcpuActor(vm.Vcpus[i], script, Self)), $"vcpu-{i}");

        Receive<VcpuRequest>(r =>
        {
            _state[r.Id] = State.Waiting;
            _time[r.Id] = r.Time;
            Serve();
        });
        Receive<VcpuDone>(d =>
        {
            _state[d.Id] = State.Done;
            Serve();
        });
        Receive<VcpuFailed>(f => Finish(f.Error));
    }

    protected override void PreStart()
    {
        foreach (var v in _vcpus) v.Tell(StartVcpu.Instance);
    }

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(e =>
        {
            Finish(e);
            return Directive.Stop;
        });

    private void Serve()
    {
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
            if (next < 0) return; // everyone is running: wait for requests
            for (int j = 0; j < _state.Length; j++)
            {
                // A running vCPU j resumed at _time[j] may still request (_time[j] + 1, j).
                if (_state[j] == State.Running && (_time[j] + 1 < _time[next] || (_time[j] + 1 == _time[next] && j < next))) return;
            }
            if (!ServeOne(next)) return;
        }
    }

    private bool ServeOne(int id)
    {
        _events++;
        var v = _vm.Vcpus[id];
        Simulation.Kvm.MmuStep step;
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
        _vcpus[id].Tell(new VcpuReply(step.Reply, step.Time));
        return true;
    }

    private void Finish(Exception? error)
    {
        if (_finished) return;
        _finished = true;
        if (error is null) _completion.TrySetResult(_events);
        else _completion.TrySetException(error);
        Context.Stop(Self);
    }
}
