using Akka.Actor;
using Akka.Serialization;

namespace Farm.Cluster.Serialization;

/// <summary>
/// The Akka serializer of Farm's protocol messages: MessagePack bodies with string manifests
/// ("farm.request-work", …; see <see cref="FarmManifests"/>). An unknown manifest is a
/// <see cref="System.Runtime.Serialization.SerializationException"/>. Bound by
/// cluster-config/serialization.conf (<see cref="FarmSerialization.Config"/>).
/// </summary>
public sealed class FarmSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Akka reserves small ids for its own serializers; this one is ours alone.</summary>
    public const int Id = 4217;

    public override int Identifier => Id;

    public override string Manifest(object o) => FarmCodec.Manifest(o);

    public override byte[] ToBinary(object obj) => FarmCodec.Serialize(obj);

    public override object FromBinary(byte[] bytes, string manifest) => FarmCodec.Deserialize(bytes, manifest);
}
