using System.ComponentModel;
using System.Diagnostics;

namespace Farm.Tests.Shared;

/// <summary>Runs a tool to completion and captures what it printed.</summary>
internal static class Proc
{
    public sealed record Result(int Code, string Out, string Err)
    {
        public override string ToString() => $"exit {Code}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    public static Result Run(string file, IEnumerable<string> args, string? workingDirectory = null, string? stdin = null,
        TimeSpan? timeout = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory ?? RepoRoot.Path,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            if (value is null) psi.Environment.Remove(name);
            else psi.Environment[name] = value;
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"cannot run '{file}' ({e.Message}); is it installed and on PATH?", e);
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (stdin is not null) p.StandardInput.Write(stdin);
            p.StandardInput.Close();
            var limit = timeout ?? TimeSpan.FromMinutes(10); // bounds a hang, not the work
            if (!p.WaitForExit(limit))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"'{file} {string.Join(' ', args)}' did not finish in {limit}");
            }
            return new Result(p.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
