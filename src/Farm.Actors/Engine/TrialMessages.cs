using Farm.Simulation.Engine;
using Farm.Simulation.Kvm;

namespace Farm.Actors.Engine;

// Messages inside one trial. A trial's VM and vCPU actors always live in one process, so these
// never cross nodes (the cluster's messages, serialized with MessagePack, carry whole trials).

/// <summary>To a vCPU actor: start the workload's guest code.</summary>
internal sealed class StartVcpu
{
    public static readonly StartVcpu Instance = new();
}

/// <summary>
/// From a vCPU actor: its guest code stopped at <see cref="Request"/> stamped <see cref="Time"/>;
/// or, if <see cref="Continuing"/> (and no request), a multi-step request it began serving under a
/// lease has its next step due at <see cref="Time"/>. <see cref="Served"/>: the service steps it
/// did under a lease since its last message. A message from the holder of a lease gives the MMU back.
/// </summary>
internal sealed record VcpuRequest(int Id, long Time, MmuRequest? Request, bool Continuing = false, long Served = 0);

/// <summary>
/// To a vCPU actor: the MMU's reply and the virtual time at which the vCPU resumes; with a
/// <see cref="Lease"/>, the MMU itself for a while.
/// </summary>
internal sealed record VcpuReply(MmuReply Reply, long Time, MmuLease? Lease);

/// <summary>
/// The MMU, lent by the VM actor to the only vCPU running when nothing else can be served before
/// that vCPU's next request. The holder serves its own requests (and their steps) that come before
/// (<see cref="Time"/>, <see cref="Id"/>), the earliest request another vCPU has pending, exactly
/// as the VM actor would, and gives the MMU back with its next message.
/// </summary>
internal sealed record MmuLease(ShadowMmu Mmu, long Time, int Id)
{
    /// <summary>Whether a request stamped (<paramref name="time"/>, <paramref name="id"/>) comes before the horizon.</summary>
    public bool Admits(long time, int id) => ServiceOrder.Before(time, id, Time, Id);
}

/// <summary>From a vCPU actor: its guest code finished, after <see cref="Served"/> steps under a lease.</summary>
internal sealed record VcpuDone(int Id, long Served = 0);

/// <summary>From a vCPU actor: its guest code failed (a model error); the trial ends with it.</summary>
internal sealed record VcpuFailed(int Id, Exception Error);
