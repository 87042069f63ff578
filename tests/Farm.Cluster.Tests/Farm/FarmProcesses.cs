using System.Diagnostics;

namespace Farm.Cluster.Tests.Farm;

/// <summary>
/// A `farm serve` node as a real process; its first stdout line is "ready ADDRESS". Everything it
/// prints goes, line by line, to a file of its test's <see cref="NodeLogs"/> as well (kept when the
/// test fails; a failure's message names the files and quotes their last lines).
/// </summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _stderr = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _stdout = new();
    private readonly StreamWriter _stdoutFile;
    private readonly StreamWriter _stderrFile;
    private readonly string _name;
    private int _disposed;
    private int? _exitCode;

    public ServeProcess(params string[] args) : this(new Dictionary<string, string>(), args)
    {
    }

    /// <summary>A node with <paramref name="environment"/> added to this process's.</summary>
    public ServeProcess(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        int roles = Array.IndexOf(args, "--roles");
        var logs = NodeLogs.Current ?? NodeLogs.Unscoped();
        (StdoutPath, StderrPath) = logs.Register(this, roles >= 0 && roles + 1 < args.Length ? args[roles + 1] : "coordinator+worker");
        _name = Path.GetFileNameWithoutExtension(Path.GetFileNameWithoutExtension(StdoutPath));
        _stdoutFile = new StreamWriter(StdoutPath) { AutoFlush = true }; // a hung test's files are complete up to the hang
        _stderrFile = new StreamWriter(StderrPath) { AutoFlush = true };
        _stderrFile.WriteLine($"# farm serve {string.Join(' ', args)}");

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "farm.dll"));
        psi.ArgumentList.Add("serve");
        foreach (var a in args) psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            _stderr.Enqueue(e.Data);
            Write(_stderrFile, e.Data);
        };
        _process.BeginErrorReadLine();
        // The node is up at the line that starts with "ready " (its log goes to stderr).
        var ready = Task.Run(() =>
        {
            while (_process.StandardOutput.ReadLine() is { } line)
            {
                _stdout.Enqueue(line);
                Write(_stdoutFile, line);
                if (line.StartsWith("ready ", StringComparison.Ordinal)) return line["ready ".Length..];
            }
            return null;
        });
        if (!ready.Wait(ClusterTestKit.Stall) || ready.Result is null) // ends at the ready line or the exit; the limit bounds a hang
        {
            string how = ready.IsCompleted ? $"exited with code {ExitCodeOrNull()}" : $"gave no ready line in {ClusterTestKit.Stall}";
            Dispose(); // never leave the child behind
            throw new InvalidOperationException($"farm serve {string.Join(' ', args)} did not start ({how})\n{Describe()}");
        }
        Address = ready.Result;
        // Keep draining stdout so that the child never blocks on a full pipe.
        _ = Task.Run(() =>
        {
            while (_process.StandardOutput.ReadLine() is { } line)
            {
                _stdout.Enqueue(line);
                Write(_stdoutFile, line);
            }
        });
    }

    public string Address { get; } = "";

    /// <summary>The files its standard output and error go to.</summary>
    public string StdoutPath { get; }
    public string StderrPath { get; }

    /// <summary>What the node wrote on standard error: its farm serve messages and its log (Akka's events included).</summary>
    public IReadOnlyList<string> Errors => [.. _stderr];

    /// <summary>What the node wrote on standard output ("ready ADDRESS").</summary>
    public IReadOnlyList<string> Output => [.. _stdout];

    /// <summary>For a failure's message: the node, whether it runs, its files and their last lines.</summary>
    public string Describe()
    {
        var text = new System.Text.StringBuilder($"== node {_name}: {(ExitCodeOrNull() is { } code ? $"exited with code {code}" : "running (or killed by the test)")}");
        foreach (var (what, path) in new[] { ("stdout", StdoutPath), ("stderr", StderrPath) })
        {
            var tail = NodeLogs.Tail(path);
            text.Append($"\n-- {what}: {path} (last {tail.Count} lines)");
            foreach (var line in tail) text.Append("\n   ").Append(line);
        }
        return text.ToString();
    }

    private int? ExitCodeOrNull()
    {
        try
        {
            return _disposed != 0 ? _exitCode : _process.HasExited ? _process.ExitCode : null;
        }
        catch (InvalidOperationException)
        {
            return _exitCode;
        }
    }

    private static void Write(StreamWriter file, string line)
    {
        lock (file)
        {
            try
            {
                file.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

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
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        if (_process.WaitForExit(TimeSpan.FromMinutes(1))) _exitCode = _process.ExitCode; // bounds a hang only
        _process.Dispose();
        lock (_stdoutFile) _stdoutFile.Dispose();
        lock (_stderrFile) _stderrFile.Dispose();
    }
}
