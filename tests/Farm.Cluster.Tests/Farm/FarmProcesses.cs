using System.Diagnostics;

namespace Farm.Cluster.Tests.Farm;

/// <summary>A `farm serve` node as a real process; its first stdout line is "ready ADDRESS".</summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly Process _process;

    public ServeProcess(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "farm.dll"));
        psi.ArgumentList.Add("serve");
        foreach (var a in args) psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        var ready = Task.Run(() => _process.StandardOutput.ReadLine());
        if (!ready.Wait(TimeSpan.FromSeconds(60)) || ready.Result is null || !ready.Result.StartsWith("ready ", StringComparison.Ordinal))
            throw new InvalidOperationException($"farm serve {string.Join(' ', args)} did not start: {ready.Result}");
        Address = ready.Result["ready ".Length..];
    }

    public string Address { get; }

    /// <summary>A real kill: no graceful leave, the cluster must notice by itself.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
