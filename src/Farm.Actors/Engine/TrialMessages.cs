namespace Farm.Actors.Engine;

// Messages inside one trial. A trial's VM and vCPU actors always live in one process, so these
// never cross nodes (the cluster's messages, serialized with MessagePack, carry whole trials).
// Between the vCPU actors, and back to the VM actor at the end, the one message is the lease
// itself (MmuLease), which carries the reply to the vCPU it is sent to.

/// <summary>To the VM actor: the trial failed with a model error (raised by the guest code or the MMU).</summary>
internal sealed record TrialFailed(Exception Error);
