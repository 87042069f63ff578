using Farm.Cluster.Protocol;

namespace Farm.Cluster.Client;

/// <summary>The coordinator answered <see cref="RequestFailed"/>: its store is unavailable, or the request hit an unexpected error.</summary>
public sealed class FarmRequestException(string message, bool unavailable) : Exception(message)
{
    /// <summary>The store cannot be used for now (HTTP 503), rather than an error in this request (500).</summary>
    public bool Unavailable { get; } = unavailable;
}
