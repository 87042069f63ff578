namespace Farm.Reports.Tests;

internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Workload(string relative) => Path.Combine(Root, "workloads", relative);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Farm.sln"))) return dir.FullName;
        throw new InvalidOperationException("Farm.sln not found above the test directory");
    }

    /// <summary>A fresh directory for one test's files.</summary>
    public static string TempDir(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"farm-reports-tests-{Environment.ProcessId}", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
