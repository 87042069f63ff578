namespace Farm.Cli;

/// <summary>Exit codes scripts can rely on (docs/cli.md).</summary>
public static class ExitCodes
{
    public const int Completed = 0;
    public const int BadInput = 2;
    public const int HostBug = 3;
    public const int TrialError = 4;

    public static int ForOutcome(string outcome) => outcome switch
    {
        "completed" => Completed,
        "host-bug" => HostBug,
        _ => TrialError,
    };
}
