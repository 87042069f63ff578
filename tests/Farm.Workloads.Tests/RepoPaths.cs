using Shared = Farm.Tests.Shared;

namespace Farm.Workloads.Tests;

internal static class RepoPaths
{
    public static string Root => Shared.RepoRoot.Path;

    public static string Workload(string relative) => Shared.RepoRoot.Workload(relative);

    public static string Temp(string name, string content)
    {
        var dir = Path.Combine(Path.GetTempPath(), "farm-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
