namespace Farm.Simulation.Results;

/// <summary>How a trial ended (RESULTS.md <c>outcome</c>).</summary>
public enum Outcome
{
    /// <summary>The workload ran to its end: <c>"completed"</c>.</summary>
    Completed,

    /// <summary>A <c>BUG_ON</c> the real host would hit: <c>"host-bug"</c>.</summary>
    HostBug,

    /// <summary>The model could not go on (bad configuration, a state it cannot handle): <c>"error"</c>.</summary>
    Error,
}

/// <summary>The wire names of <see cref="Outcome"/>, as RESULTS.md fixes them.</summary>
public static class Outcomes
{
    /// <summary>"completed", "host-bug" or "error".</summary>
    public static string Name(this Outcome outcome) => outcome switch
    {
        Outcome.Completed => "completed",
        Outcome.HostBug => "host-bug",
        Outcome.Error => "error",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
    };

    /// <summary>The outcome named <paramref name="name"/>; a <see cref="FormatException"/> naming the valid ones otherwise.</summary>
    public static Outcome Parse(string? name) => name switch
    {
        "completed" => Outcome.Completed,
        "host-bug" => Outcome.HostBug,
        "error" => Outcome.Error,
        _ => throw new FormatException($"outcome '{name}' is not one of completed, host-bug, error"),
    };
}
