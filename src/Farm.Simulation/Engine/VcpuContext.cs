using System.Runtime.CompilerServices;
using Farm.Simulation.Kvm;

namespace Farm.Simulation.Engine;

/// <summary>
/// The engine side of one vCPU: its virtual clock and the one request it may have pending.
/// Guest code awaits <see cref="Mmu"/>; the engine serves the request in (timestamp, vcpu)
/// order and resumes the guest code with the reply. The await never touches a thread pool:
/// the continuation is invoked by the engine, so guest code runs on the engine's schedule.
/// <para>
/// Under a lease (<see cref="Lease"/>, given by the sequential engine when every other vCPU waits)
/// a request stamped before the lease's horizon is served right away, inside the await: it is the
/// request the engine would serve next anyway (<see cref="ServiceOrder"/>), so the order and the
/// events are the same, but the guest code does not unwind to the engine and back.
/// </para>
/// </summary>
public sealed class VcpuContext(int id)
{
    public int Id { get; } = id;

    /// <summary>Virtual time of this vCPU in guest cycles.</summary>
    public long Clock { get; set; }

    /// <summary>The request the guest code is waiting on (engines read it; null while running).</summary>
    public MmuRequest? Pending { get; private set; }
    /// <summary>The pending request's timestamp; when <see cref="Continuing"/>, the next step's.</summary>
    public long PendingTime { get; private set; }
    /// <summary>A request begun under the lease has more steps, the next one due at <see cref="PendingTime"/>
    /// (after the horizon); the engine serves them and resumes the guest code.</summary>
    public bool Continuing { get; private set; }
    private MmuReply _reply;
    private bool _answered;
    private Action? _continuation;
    public long Requests { get; private set; }

    private ShadowMmu? _leaseMmu;
    private KvmVcpu? _leaseKvm;
    private long _horizonTime;
    private int _horizonId;
    private long _servedUnderLease;

    /// <summary>Issue a request at the current clock (at least one cycle after the last reply).</summary>
    public MmuAwaitable Mmu(MmuRequest request)
    {
        Clock += 1;
        Requests++;
        if (_leaseMmu is not null && ServiceOrder.Before(Clock, Id, _horizonTime, _horizonId))
        {
            ServeUnderLease(request);
            return new MmuAwaitable(this);
        }
        Pending = request;
        PendingTime = Clock;
        return new MmuAwaitable(this);
    }

    /// <summary>
    /// Serves <paramref name="request"/> here, as the engine would (one event per step): answered when
    /// its last step comes before the horizon, else left <see cref="Continuing"/> for the engine.
    /// </summary>
    private void ServeUnderLease(MmuRequest request)
    {
        long through = ServiceOrder.LastBefore(Id, _horizonTime, _horizonId);
        var step = _leaseMmu!.Serve(_leaseKvm!, request, Clock, through, out long steps);
        _servedUnderLease += steps;
        while (!step.Finished)
        {
            if (step.Time > through)
            {
                Continuing = true;
                PendingTime = step.Time;
                return;
            }
            step = _leaseMmu.Continue(_leaseKvm!, step.Time, through, out steps);
            _servedUnderLease += steps;
        }
        _reply = step.Reply;
        Clock = step.Time;
        _answered = true;
    }

    /// <summary>
    /// Called by an engine before it resumes this vCPU while every other vCPU waits or is done:
    /// requests before (<paramref name="horizonTime"/>, <paramref name="horizonId"/>), the earliest
    /// one pending elsewhere, are served on <paramref name="mmu"/> as they are issued.
    /// </summary>
    public void Lease(ShadowMmu mmu, KvmVcpu kvm, long horizonTime, int horizonId)
    {
        _leaseMmu = mmu;
        _leaseKvm = kvm;
        _horizonTime = horizonTime;
        _horizonId = horizonId;
    }

    /// <summary>Ends the lease; returns the service steps done under it (each an event).</summary>
    public long EndLease()
    {
        _leaseMmu = null;
        _leaseKvm = null;
        long served = _servedUnderLease;
        _servedUnderLease = 0;
        return served;
    }

    /// <summary>Called by an engine that takes over a <see cref="Continuing"/> request.</summary>
    public void TakeContinuation() => Continuing = false;

    /// <summary>Called by an engine: the reply arrives, the clock jumps to the reply time, the guest code resumes.</summary>
    public void Resume(MmuReply reply, long time)
    {
        _reply = reply;
        Clock = time;
        Pending = null;
        Continuing = false;
        var k = _continuation ?? throw new InvalidOperationException($"vCPU {Id} has no continuation to resume");
        _continuation = null;
        k();
    }

    /// <summary>Completed when the request was answered under the lease; else the engine resumes the awaiter.</summary>
    public readonly struct MmuAwaitable(VcpuContext ctx) : ICriticalNotifyCompletion
    {
        public MmuAwaitable GetAwaiter() => this;
        public bool IsCompleted => ctx._answered;

        public MmuReply GetResult()
        {
            ctx._answered = false;
            return ctx._reply;
        }

        public void OnCompleted(Action continuation) => ctx._continuation = continuation;
        public void UnsafeOnCompleted(Action continuation) => ctx._continuation = continuation;
    }
}
