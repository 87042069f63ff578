using Farm.Cluster.Protocol;
using Farm.Simulation;

namespace Farm.Cluster.Sweeps;

/// <summary>
/// A farm trial's id. <c>SimConfig.TrialId</c> (the <c>trial.id</c> of a result) hashes the model
/// version, workload name, canonical configuration and seed; it cannot see what the workload file
/// says beyond its config keys. Two files with the same name but other routines or another kind
/// would collide, so the farm id also hashes the workload file's text and the routine bytes.
/// </summary>
public static class TrialIdentity
{
    /// <summary>Bumped when what goes into a farm trial id changes; part of every id.</summary>
    public const string Version = "farm-trial-1";

    /// <summary>The workload file's content hash: 16 hex digits of SHA-256 over its text with LF line endings.</summary>
    public static string WorkloadHash(string workloadText) => Hashing.Hex16(Hashing.NormalizeNewlines(workloadText));

    /// <summary>The farm id of <paramref name="spec"/>, built from the workload file whose <see cref="WorkloadHash"/> is
    /// <paramref name="workloadHash"/> (a worker has the hash in its ticket, not the file).</summary>
    public static TrialId Compute(TrialSpec spec, string workloadHash)
    {
        var routines = (spec.Routines ?? new Dictionary<Simulation.GuestCode.KernelOp, Simulation.GuestCode.GuestRoutine>())
            .OrderBy(r => r.Key.ToString(), StringComparer.Ordinal)
            .Select(r => $"{r.Key}:{r.Value.Bitness}:{Convert.ToHexStringLower(r.Value.Bytes)}");
        string text = $"{Version}\nconfig_id={spec.Config.TrialId(spec.WorkloadName)}\nworkload_sha256={workloadHash}\nroutines={string.Join(';', routines)}";
        return new TrialId(Hashing.Hex16(text));
    }
}
