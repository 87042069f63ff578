using System.Runtime.CompilerServices;
using Farm.Simulation.Kvm;

namespace Farm.Simulation.Engine;

/// <summary>
/// The engine side of one vCPU: its virtual clock and the one request it may have pending.
/// Guest code awaits <see cref="Mmu"/>; the engine serves the request in (timestamp, vcpu)
/// order and resumes the guest code with the reply. The await never touches a thread pool:
/// the continuation is invoked by the engine, so guest code runs on the engine's schedule.
/// </summary>
public sealed class VcpuContext(int id)
{
    public int Id { get; } = id;

    /// <summary>Virtual time of this vCPU in guest cycles.</summary>
    public long Clock { get; set; }

    /// <summary>The request the guest code is waiting on (engines read it; null while running).</summary>
    public MmuRequest? Pending { get; private set; }
    /// <summary>The pending request's timestamp.</summary>
    public long PendingTime { get; private set; }
    private MmuReply _reply;
    private Action? _continuation;
    public long Requests { get; private set; }

    /// <summary>Issue a request at the current clock (at least one cycle after the last reply).</summary>
    public MmuAwaitable Mmu(MmuRequest request)
    {
        Clock += 1;
        Pending = request;
        PendingTime = Clock;
        Requests++;
        return new MmuAwaitable(this);
    }

    /// <summary>Called by an engine: the reply arrives, the clock jumps to the reply time, the guest code resumes.</summary>
    public void Resume(MmuReply reply, long time)
    {
        _reply = reply;
        Clock = time;
        Pending = null;
        var k = _continuation ?? throw new InvalidOperationException($"vCPU {Id} has no continuation to resume");
        _continuation = null;
        k();
    }

    public readonly struct MmuAwaitable(VcpuContext ctx) : ICriticalNotifyCompletion
    {
        public MmuAwaitable GetAwaiter() => this;
        public bool IsCompleted => false;
        public MmuReply GetResult() => ctx._reply;
        public void OnCompleted(Action continuation) => ctx._continuation = continuation;
        public void UnsafeOnCompleted(Action continuation) => ctx._continuation = continuation;
    }
}
