using Farm.Cluster.Protocol;

namespace Farm.Cluster.Store;

/// <summary>A request the store refuses; the store is unchanged (its transaction rolled back).</summary>
public class StoreException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The store has no sweep with this id (the HTTP API's 404).</summary>
public sealed class UnknownSweepException(SweepId sweep) : StoreException($"no sweep with id '{sweep}'")
{
    public SweepId Sweep { get; } = sweep;
}

/// <summary>The store has no trial with this id: a worker answered for a trial it was never given.</summary>
public sealed class UnknownTrialException(TrialId trial) : StoreException($"no trial with id '{trial}'")
{
    public TrialId Trial { get; } = trial;
}

/// <summary>
/// The store cannot be used (read-only, full, an I/O error, damaged, held by another process, or its
/// file deleted or replaced); nothing was changed. <see cref="Recoverable"/>: the cause may pass by
/// itself (space freed, file system writable again), so a later write may succeed.
/// </summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null, bool recoverable = false) : StoreException(message, inner)
{
    public bool Recoverable { get; } = recoverable;
}
