using Farm.Cluster.Sweeps;
using Farm.Simulation;
using Farm.Simulation.Config;
using Farm.Workloads;
using MessagePack;

namespace Farm.Cluster.Protocol;

/// <summary>
/// Everything a worker needs to run one trial, and nothing that needs the coordinator's disk:
/// the workload file's text (it may name routines as raw bytes) and the explicit key/value
/// overrides in the order they apply (sweep base, variant, axes, seed; later keys win).
/// </summary>
[MessagePackObject]
public sealed record TrialTicket(
    [property: Key(0)] TrialId Id,
    [property: Key(1)] string WorkloadName,
    [property: Key(2)] string WorkloadSource,
    [property: Key(3)] string WorkloadText,
    [property: Key(4)] IReadOnlyList<Setting> Overrides)
{
    /// <summary>
    /// Rebuilds the trial. Throws <see cref="ConfigException"/> if this node computes a different id:
    /// then coordinator and worker disagree on the model (different builds), and a result computed
    /// here would be stored under an id it does not belong to.
    /// </summary>
    public TrialSpec ToSpec(Worker.WorkloadCache? workloads = null)
    {
        var file = workloads?.Get(WorkloadText, WorkloadSource) ?? WorkloadFile.Parse(WorkloadText, WorkloadSource);
        var spec = file.ToTrial(Overrides.Select(s => KeyValuePair.Create(s.Key, s.Value)));
        var id = TrialIdentity.Compute(spec, WorkloadText);
        if (id != Id)
            throw new ConfigException($"trial {Id}: this node computes id {id} for it; coordinator and worker run different model versions (here: {ConfigSchema.ModelVersion})");
        return spec;
    }

    // Value equality over the override list too (a record compares lists by reference).
    public bool Equals(TrialTicket? other) =>
        other is not null && Id == other.Id && WorkloadName == other.WorkloadName && WorkloadSource == other.WorkloadSource
        && WorkloadText == other.WorkloadText && Overrides.SequenceEqual(other.Overrides);

    public override int GetHashCode() => HashCode.Combine(Id, WorkloadName, Overrides.Count);
}
