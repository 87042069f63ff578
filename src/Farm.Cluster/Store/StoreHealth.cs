namespace Farm.Cluster.Store;

/// <summary>
/// Whether the coordinator's store takes writes, as its owner last found: read by the node's
/// readiness probe (another thread), written by the coordinator actor.
/// </summary>
public sealed class StoreHealth
{
    private volatile string? _error;

    /// <summary>Why the store cannot be written (dispatch has stopped), or null when it is healthy.</summary>
    public string? Error => _error;

    internal void Report(string? error) => _error = error;
}
