using System.Diagnostics;

namespace Farm.Cluster.Tests.Farm;

/// <summary>A `farm serve` node as a real process; its first stdout line is "ready ADDRESS".</summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _stderr = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _stdout = new();

    public ServeProcess(params string[] args) : this(new Dictionary<string, string>(), args)
    {
    }

    /// <summary>A node with <paramref name="environment"/> added to this process's.</summary>
    public ServeProcess(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "farm.dll"));
        psi.ArgumentList.Add("serve");
        foreach (var a in args) psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _stderr.Enqueue(e.Data); };
        _process.BeginErrorReadLine();
        // The node is up at the line that starts with "ready " (its log goes to stderr).
        var seen = new List<string>();
        var ready = Task.Run(() =>
        {
            while (_process.StandardOutput.ReadLine() is { } line)
            {
                _stdout.Enqueue(line);
                if (line.StartsWith("ready ", StringComparison.Ordinal)) return line["ready ".Length..];
                seen.Add(line);
            }
            return null;
        });
        if (!ready.Wait(ClusterTestKit.Stall) || ready.Result is null) // ends at the ready line or the exit; the limit bounds a hang
        {
            Dispose(); // never leave the child behind
            throw new InvalidOperationException($"farm serve {string.Join(' ', args)} did not start: {string.Join(" | ", seen)}"
                + $"; its last errors: {string.Join(" | ", _stderr.TakeLast(5))}");
        }
        Address = ready.Result;
        // Keep draining stdout so that the child never blocks on a full pipe.
        _ = Task.Run(() => { while (_process.StandardOutput.ReadLine() is { } line) _stdout.Enqueue(line); });
    }

    public string Address { get; }

    /// <summary>What the node wrote on standard error: its farm serve messages and its log (Akka's events included).</summary>
    public IReadOnlyList<string> Errors => [.. _stderr];

    /// <summary>What the node wrote on standard output ("ready ADDRESS").</summary>
    public IReadOnlyList<string> Output => [.. _stdout];

    /// <summary>A real kill: no graceful leave, the cluster must notice by itself.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGSTOP: the node freezes as a hung process does (no heartbeats, no answers) until killed or continued.</summary>
    public void Suspend() => Signal("-STOP");

    /// <summary>SIGTERM, as Kubernetes sends before it stops a pod: the node should leave gracefully.</summary>
    public void Terminate() => Signal("-TERM");

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>The exit code, or null if the process is still running after <paramref name="timeout"/>.</summary>
    public async Task<int?> WaitForExit(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
