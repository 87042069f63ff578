using System.Diagnostics;

namespace Farm.Cli.Tests;

/// <summary>Runs the built farm command as a real process.</summary>
internal static class FarmProcess
{
    public static string Root => Farm.Tests.Shared.RepoRoot.Path;

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "farm.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException("farm did not finish in 2 minutes"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
