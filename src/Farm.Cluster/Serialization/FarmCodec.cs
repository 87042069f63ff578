using System.Runtime.Serialization;
using MessagePack;

namespace Farm.Cluster.Serialization;

/// <summary>
/// Protocol messages to bytes and back, without an actor system: the Akka serializer delegates
/// here, and chunking measures sizes with the very same encoding.
/// </summary>
public static class FarmCodec
{
    /// <summary>Standard resolvers (attributes, records via their constructor); untrusted-data limits,
    /// because any node that reaches the port can send us bytes.</summary>
    public static readonly MessagePackSerializerOptions Options =
        MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    /// <summary>The message's manifest; throws <see cref="SerializationException"/> for a type without one.</summary>
    public static string Manifest(object message) =>
        FarmManifests.TryGetManifest(message.GetType(), out var manifest)
            ? manifest
            : throw new SerializationException($"{message.GetType().FullName} is not a Farm protocol message (no manifest in FarmManifests)");

    public static byte[] Serialize(object message)
    {
        _ = Manifest(message);
        return MessagePackSerializer.Serialize(message.GetType(), message, Options);
    }

    /// <summary>Decodes <paramref name="bytes"/> as the message named by <paramref name="manifest"/>;
    /// an unknown manifest or malformed bytes are a <see cref="SerializationException"/>.</summary>
    public static object Deserialize(byte[] bytes, string manifest)
    {
        if (!FarmManifests.TryGetType(manifest, out var type))
            throw new SerializationException($"unknown manifest '{manifest}'; known: {string.Join(", ", FarmManifests.All.Select(m => m.Manifest))}");
        try
        {
            return MessagePackSerializer.Deserialize(type, bytes, Options)
                ?? throw new SerializationException($"'{manifest}': the message is nil");
        }
        catch (MessagePackSerializationException e)
        {
            throw new SerializationException($"'{manifest}': malformed message: {e.Message}", e);
        }
    }

    /// <summary>The encoded size of any MessagePack-serializable value (a message or a part of one).</summary>
    public static int SizeOf<T>(T value) => MessagePackSerializer.Serialize(value, Options).Length;
}
