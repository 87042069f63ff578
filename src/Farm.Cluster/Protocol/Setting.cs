using MessagePack;

namespace Farm.Cluster.Protocol;

/// <summary>One dotted configuration key and its value, as written (the --set namespace).</summary>
[MessagePackObject]
public sealed record Setting([property: Key(0)] string Key, [property: Key(1)] string Value)
{
    public override string ToString() => $"{Key}={Value}";
}
