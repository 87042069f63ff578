namespace Farm.Cluster.Protocol;

/// <summary>
/// Marks a message that may cross nodes. The serialization binding names this interface, so a
/// message without a manifest in <see cref="Serialization.FarmManifests"/> fails loudly instead of
/// falling back to another serializer.
/// </summary>
public interface IFarmMessage;
