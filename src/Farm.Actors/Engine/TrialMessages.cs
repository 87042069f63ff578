using Farm.Simulation.Kvm;

namespace Farm.Actors.Engine;

// Messages inside one trial. A trial's VM and vCPU actors always live in one process, so these
// never cross nodes (the cluster's messages, serialized with MessagePack, carry whole trials).

/// <summary>To a vCPU actor: start the workload's guest code.</summary>
internal sealed class StartVcpu
{
    public static readonly StartVcpu Instance = new();
}

/// <summary>From a vCPU actor: its guest code stopped at an MMU request stamped <see cref="Time"/>
/// (the request itself is in the vCPU's context, which the VM actor reads while the vCPU waits).</summary>
internal sealed record VcpuRequest(int Id, long Time);

/// <summary>To a vCPU actor: the MMU's reply, and the virtual time at which the vCPU resumes.</summary>
internal sealed record VcpuReply(MmuReply Reply, long Time);

/// <summary>From a vCPU actor: its guest code finished.</summary>
internal sealed record VcpuDone(int Id);

/// <summary>From a vCPU actor: its guest code failed (a model error); the trial ends with it.</summary>
internal sealed record VcpuFailed(int Id, Exception Error);
