using Farm.Cluster.Sweeps;
using Farm.Simulation;
using Farm.Simulation.Config;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Workloads;
using MessagePack;

namespace Farm.Cluster.Protocol;

/// <summary>
/// Everything a worker needs to run one trial, resolved by the coordinator, which parsed and
/// expanded the spec once (issue 14 item 3): the workload's kind and name, the whole resolved
/// configuration (seed included), the routine overrides as bytes, and the workload file's
/// content hash, which the trial id covers. No YAML travels: a worker builds the trial from
/// these values alone and parses nothing.
/// Keys 2-4 carried the workload file's source path, its text and the unresolved overrides in
/// earlier builds (each worker parsed the text); they are retired, never reused (docs/sweeps.md,
/// "The protocol"). Trial ids are unchanged: they hash the same values.
/// </summary>
[MessagePackObject]
public sealed record TrialTicket(
    [property: Key(0)] TrialId Id,
    [property: Key(1)] string WorkloadName,
    [property: Key(5)] string WorkloadKind,
    [property: Key(6)] string WorkloadHash,
    [property: Key(7)] IReadOnlyList<Setting> Config,
    [property: Key(8)] IReadOnlyList<TicketRoutine> Routines)
{
    /// <summary>The ticket of a trial the coordinator resolved: the configuration in key order, the routines in operation order.</summary>
    public static TrialTicket Of(TrialId id, string workloadName, string workloadKind, string workloadHash,
        IEnumerable<KeyValuePair<string, string>> config, IReadOnlyDictionary<KernelOp, GuestRoutine> routines) =>
        new(id, workloadName, workloadKind, workloadHash,
            config.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new Setting(kv.Key, kv.Value)).ToList(),
            routines.OrderBy(r => r.Key).Select(r => new TicketRoutine(r.Key.ToString(), r.Value.Name, r.Value.Bitness, r.Value.Bytes)).ToList());

    /// <summary>
    /// Builds the trial from the ticket's values. Throws <see cref="ConfigException"/> for a ticket
    /// this node cannot run: one from an older coordinator (no resolved trial), a key or kind this
    /// build does not know, or an id this node computes differently; then coordinator and worker
    /// disagree on the model (different builds), and a result computed here would be stored under
    /// an id it does not belong to.
    /// </summary>
    public TrialSpec ToSpec()
    {
        if (WorkloadKind is null || WorkloadHash is null || Config is null || Routines is null)
            throw new ConfigException($"trial {Id}: the ticket carries no resolved trial (a coordinator of an older build sent it); run coordinator and workers of one build");
        var workload = WorkloadRegistry.Get(WorkloadKind);
        // Every key is given, so resolving adds no default or preset: it only checks each value.
        var config = SimConfig.Resolve(Config.Select(s => KeyValuePair.Create(s.Key, s.Value)), workload.Keys);
        var routines = new Dictionary<KernelOp, GuestRoutine>();
        foreach (var r in Routines) routines[r.Operation()] = r.ToRoutine();
        var spec = new TrialSpec(WorkloadName, workload, config, routines);
        var id = TrialIdentity.Compute(spec, WorkloadHash);
        if (id != Id)
            throw new ConfigException($"trial {Id}: this node computes id {id} for it; coordinator and worker run different model versions (here: {ConfigSchema.ModelVersion})");
        return spec;
    }

    // Value equality over the lists too (a record compares lists by reference).
    public bool Equals(TrialTicket? other) =>
        other is not null && Id == other.Id && WorkloadName == other.WorkloadName && WorkloadKind == other.WorkloadKind
        && WorkloadHash == other.WorkloadHash && (Config ?? []).SequenceEqual(other.Config ?? []) && (Routines ?? []).SequenceEqual(other.Routines ?? []);

    public override int GetHashCode() => HashCode.Combine(Id, WorkloadName, Config?.Count ?? 0); // an older coordinator's ticket has no Config
}

/// <summary>A routine override of a ticket: the kernel operation it replaces (<see cref="KernelOp"/>'s name), its name, bitness and machine code.</summary>
[MessagePackObject]
public sealed record TicketRoutine(
    [property: Key(0)] string Op,
    [property: Key(1)] string Name,
    [property: Key(2)] int Bitness,
    [property: Key(3)] byte[] Bytes)
{
    public KernelOp Operation() =>
        Op is { Length: > 0 } && char.IsLetter(Op[0]) && Enum.TryParse<KernelOp>(Op, ignoreCase: false, out var op) && Enum.IsDefined(op)
            ? op
            : throw new ConfigException($"routine for '{Op}': not a kernel operation this build knows; valid: {string.Join(", ", Enum.GetNames<KernelOp>())}");

    public GuestRoutine ToRoutine() =>
        Bitness is 32 or 64 && Bytes is { Length: > 0 }
            ? new GuestRoutine(Name, Bitness, Bytes)
            : throw new ConfigException($"routine '{Name}': bitness {Bitness} and {Bytes?.Length ?? 0} bytes; valid: bitness 32 or 64 and at least one byte");

    // Value equality over the bytes (a record compares arrays by reference).
    public bool Equals(TicketRoutine? other) =>
        other is not null && Op == other.Op && Name == other.Name && Bitness == other.Bitness && Bytes.AsSpan().SequenceEqual(other.Bytes.AsSpan());

    public override int GetHashCode() => HashCode.Combine(Op, Name, Bitness, Bytes?.Length ?? 0);
}
