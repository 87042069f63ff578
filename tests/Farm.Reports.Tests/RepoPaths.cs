using Shared = Farm.Tests.Shared;

namespace Farm.Reports.Tests;

internal static class RepoPaths
{
    public static string Root => Shared.RepoRoot.Path;

    public static string Workload(string relative) => Shared.RepoRoot.Workload(relative);

    /// <summary>A fresh directory for one test's files.</summary>
    public static string TempDir(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"farm-reports-tests-{Environment.ProcessId}", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
