namespace Farm.Cluster.Protocol;

/// <summary>Sizes that keep a message inside one remoting frame.</summary>
public static class ProtocolLimits
{
    /// <summary>No serialized protocol message may reach this size.</summary>
    public const int MaxMessageBytes = 128 * 1024;

    /// <summary>
    /// What a chunked message aims at. Half the limit: Akka.Remote's default frame is 128,000 bytes
    /// (a little under 128 KiB) and the envelope (recipient, sender, manifest) adds to the payload.
    /// </summary>
    public const int ChunkBudgetBytes = 64 * 1024;

    /// <summary>The most results one <see cref="GetResultsPage"/> returns (fewer when they would pass the chunk budget).</summary>
    public const int MaxPageItems = 1000;
}
