using Akka.Actor;
using Farm.Simulation.Engine;
using Farm.Simulation.Guest;
using Farm.Simulation.Kvm;

namespace Farm.Actors.Engine;

/// <summary>
/// The VM's shadow MMU with its <see cref="ServiceOrder"/> (the rule shared with the sequential
/// engine), lent by the VM actor for the length of the trial and passed from vCPU actor to vCPU
/// actor as the one message between them. Only its holder runs: the vCPU actor that received it
/// runs its guest code (serving inside their awaits the requests that come next in the order,
/// <see cref="Lend"/>) to the first request that does not, records it, and serves in order
/// whatever the rule allows; when the step served finishes another vCPU's request, it sends the
/// lease, with that reply, to that vCPU's actor. Its own finished requests it serves in place, with no message.
/// <para>
/// Who holds the lease is always the only vCPU running (or about to start), every other one
/// waiting or done: this is the sequential engine's schedule, each change of vCPU one message.
/// The lease carries no state of the holder's: the reply, the resume time and the horizon are for the receiver.
/// </para>
/// </summary>
internal sealed class MmuLease(GuestVm vm, IActorRef owner, IActorRef[] vcpus)
{
    private readonly ServiceOrder _order = new(vcpus.Length);
    private int _started; // vCPUs 0 .. _started - 1 have started their guest code
    private long _horizonTime; // for the receiver: the earliest request another vCPU has pending or could still issue
    private int _horizonId;

    /// <summary>MMU service steps so far.</summary>
    public long Events { get; private set; }

    /// <summary>For the receiving vCPU: start its guest code (else resume it with <see cref="Reply"/>).</summary>
    public bool Start { get; private set; }

    /// <summary>For the receiving vCPU: the reply to its request.</summary>
    public MmuReply Reply { get; private set; }

    /// <summary>For the receiving vCPU: the virtual time at which it resumes.</summary>
    public long Time { get; private set; }

    /// <summary>vCPU <paramref name="id"/>'s guest code awaits <paramref name="request"/> stamped <paramref name="time"/>.</summary>
    public void Waits(int id, MmuRequest request, long time) => _order.Request(id, request, time);

    /// <summary>vCPU <paramref name="id"/>'s request begun inside its await has its next step due at <paramref name="time"/>.</summary>
    public void Continues(int id, long time) => _order.Continue(id, time);

    /// <summary>vCPU <paramref name="id"/>'s guest code finished.</summary>
    public void Finished(int id) => _order.Finish(id);

    /// <summary>
    /// Before the holder, <paramref name="vcpu"/>, runs its guest code: its requests stamped before
    /// the earliest one another vCPU has pending or could still issue are the ones this lease would
    /// serve next (<see cref="ServeFor"/>), so they are served as they are issued, inside the guest
    /// code's await (<see cref="VcpuContext.Lease"/>), in the same order with the same events,
    /// without the guest code's stack unwinding to the actor and back for each. Nothing that bounds
    /// them changes meanwhile: every other vCPU waits, is done or has not started.
    /// </summary>
    public void Lend(GuestVcpu vcpu) => vcpu.Context.Lease(vm.Mmu, vcpu.Kvm, _horizonTime, _horizonId);

    /// <summary>After the holder's guest code stopped: the steps served inside its awaits count as events.</summary>
    public void Reclaim(GuestVcpu vcpu) => Events += vcpu.Context.EndLease();

    /// <summary>
    /// Serves in order until a request finishes: if it is <paramref name="id"/>'s own, returns
    /// true (its reply in <see cref="Reply"/> and <see cref="Time"/>); else the lease has gone to
    /// the vCPU whose request it was (or to the next vCPU to start, or back to the VM actor when
    /// every vCPU is done) and it returns false. A model failure is thrown to the caller.
    /// </summary>
    public bool ServeFor(int id)
    {
        while (true)
        {
            // One scan: whose request comes next and the earliest one elsewhere, which the states of
            // the others, unchanged until the lease moves on, keep for the vCPU served.
            int next = _order.Next(out long horizonTime, out int horizonId);
            if (next < 0)
            {
                HandOn();
                return false;
            }
            // The steps of an emulated rep string due before any other vCPU's, in one call (an event each).
            var step = _order.Serve(vm.Mmu, vm.Vcpus[next].Kvm, next, ServiceOrder.LastBefore(next, horizonTime, horizonId), out long steps);
            Events += steps;
            if (!step.Finished) continue; // the next element of an emulated rep string: queued at its own time
            Start = false;
            Reply = step.Reply;
            Time = step.Time;
            _horizonTime = horizonTime;
            _horizonId = horizonId;
            if (next == id) return true;
            vcpus[next].Tell(this, ActorRefs.NoSender);
            return false;
        }
    }

    /// <summary>
    /// Nothing can be served: a vCPU that has not started yet could still issue an earlier
    /// request (it starts, in id order, as on the sequential engine), or every vCPU is done.
    /// </summary>
    public void HandOn()
    {
        if (_started < vcpus.Length)
        {
            Start = true;
            _order.EarliestElsewhere(_started, out _horizonTime, out _horizonId);
            vcpus[_started++].Tell(this, ActorRefs.NoSender);
        }
        else if (_order.AllDone)
        {
            owner.Tell(this, ActorRefs.NoSender); // the trial is over
        }
        else
        {
            throw new InvalidOperationException("no vCPU can go on: the MMU's service order is blocked although every vCPU waits or is done");
        }
    }
}
