using Farm.Tests.Shared;

namespace Farm.Cli.Tests;

/// <summary>Runs the built farm command as a real process (from the repository root, no colour).</summary>
internal static class FarmProcess
{
    public static string Root => RepoRoot.Path;

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var r = Proc.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "farm.dll"), .. args]);
        return (r.Code, r.Out, r.Err);
    }
}
