using Farm.Cluster.Protocol;
using Farm.Simulation;
using Farm.Workloads;

namespace Farm.Cluster.Sweeps;

/// <summary>
/// A workload of a sweep: the path as written in the spec, the file's text and its parse, and the
/// keys the spec sets for this workload alone (<c>workloads: [{file: ..., set: {...}}]</c>), which
/// apply after <c>base</c>: e.g. kernbench's <c>workload.scale</c> in a sweep that also has micro workloads.
/// </summary>
public sealed record SweepWorkload(string Path, string Text, WorkloadFile File, IReadOnlyList<Setting> Settings)
{
    public string Name => File.Name;

    /// <summary>The content hash that goes into trial and sweep ids (<see cref="TrialIdentity.WorkloadHash"/>).</summary>
    public string Hash { get; } = TrialIdentity.WorkloadHash(Text);
}

/// <summary>A named set of keys applied together (e.g. "fix1-topup": policy kvm-3.1 plus one switch).</summary>
public sealed record SweepVariant(string Name, IReadOnlyList<Setting> Settings);

/// <summary>A grid axis: one key and its values, normalised (e.g. "yes" is "true"), in the order given.</summary>
public sealed record SweepAxis(string Key, IReadOnlyList<string> Values);

/// <summary>
/// One expanded trial of a sweep. <see cref="Position"/> is its place in the sweep's order;
/// <see cref="Labels"/> say where it sits in the grid (workload, variant, each axis, seed), and
/// <see cref="Description"/> is them as one line. Two positions may hold the same trial id (two
/// variants that resolve to the same configuration): the trial is stored and run once.
/// <see cref="Overrides"/> are the keys over the workload file's own, in the order they apply (the
/// store keeps them); <see cref="Ticket"/> is the resolved trial a worker runs.
/// </summary>
public sealed record SweepTrial(int Position, TrialId Id, string ConfigId, SweepWorkload Workload, IReadOnlyList<Setting> Labels,
    IReadOnlyList<Setting> Overrides, TrialTicket Ticket, TrialSpec Spec)
{
    public string Description => string.Join(' ', Labels);
    public long Seed => Spec.Config.Int("seed");

    /// <summary>The sensitivity point (<c>low:cost.exit</c>, <c>draw:3</c>) of a sensitivity trial; null for an ordinary one.</summary>
    public string? Sensitivity => Labels.FirstOrDefault(l => l.Key == SweepSensitivity.LabelKey)?.Value;
}
