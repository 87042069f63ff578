using MessagePack;
using MessagePack.Formatters;

namespace Farm.Cluster.Protocol;

// Strong ids: a trial id cannot be passed where a sweep id is expected. On the wire and in the
// store each is its plain string, so the HTTP API and SQLite see ordinary text.

/// <summary>A trial's id: 16 hex digits (see docs/sweeps.md, "Ids").</summary>
[MessagePackFormatter(typeof(TrialIdFormatter))]
public readonly record struct TrialId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>A sweep's id: 16 hex digits, a hash of the canonical sweep.</summary>
[MessagePackFormatter(typeof(SweepIdFormatter))]
public readonly record struct SweepId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>A worker's id, chosen by the worker (e.g. its cluster address); unique per worker process.</summary>
[MessagePackFormatter(typeof(WorkerIdFormatter))]
public readonly record struct WorkerId(string Value)
{
    public override string ToString() => Value;
}

public sealed class TrialIdFormatter : StringIdFormatter<TrialId>
{
    protected override TrialId Create(string value) => new(value);
    protected override string Text(TrialId id) => id.Value;
}

public sealed class SweepIdFormatter : StringIdFormatter<SweepId>
{
    protected override SweepId Create(string value) => new(value);
    protected override string Text(SweepId id) => id.Value;
}

public sealed class WorkerIdFormatter : StringIdFormatter<WorkerId>
{
    protected override WorkerId Create(string value) => new(value);
    protected override string Text(WorkerId id) => id.Value;
}

/// <summary>Writes an id as a MessagePack string; a nil or missing id is a malformed message.</summary>
public abstract class StringIdFormatter<T> : IMessagePackFormatter<T>
{
    protected abstract T Create(string value);
    protected abstract string Text(T id);

    public void Serialize(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options) =>
        writer.Write(Text(value) ?? throw new MessagePackSerializationException($"{typeof(T).Name} has no value"));

    public T Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
        Create(reader.ReadString() ?? throw new MessagePackSerializationException($"{typeof(T).Name} is nil"));
}
