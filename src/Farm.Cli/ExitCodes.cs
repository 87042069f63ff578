using Farm.Simulation.Results;

namespace Farm.Cli;

/// <summary>Exit codes scripts can rely on (docs/cli.md).</summary>
public static class ExitCodes
{
    public const int Completed = 0;
    public const int BadInput = 2;
    public const int HostBug = 3;
    public const int TrialError = 4;
    /// <summary>A node could not start: a port in use, an address it cannot bind.</summary>
    public const int NodeFailure = 5;
    /// <summary>A coordinator's store cannot be used: held by another coordinator, read-only, damaged, or of a newer schema (docs/failure-behaviour.md).</summary>
    public const int StoreUnavailable = 6;

    public static int ForOutcome(Outcome outcome) => outcome switch
    {
        Outcome.Completed => Completed,
        Outcome.HostBug => HostBug,
        _ => TrialError,
    };
}
