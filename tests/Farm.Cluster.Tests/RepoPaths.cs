using Shared = Farm.Tests.Shared;

namespace Farm.Cluster.Tests;

internal static class RepoPaths
{
    public static string Root => Shared.RepoRoot.Path;

    public static string Workloads => Path.Combine(Root, "workloads");

    public static string Sweeps => Path.Combine(Root, "workloads", "sweeps");
}

/// <summary>A fresh directory per test, removed afterwards.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "farm-cluster-tests", Guid.NewGuid().ToString("N"));

    public string File(string name, string content)
    {
        var path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } // best effort: a test's leftovers are harmless
    }
}
