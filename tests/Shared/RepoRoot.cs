namespace Farm.Tests.Shared;

/// <summary>The repository's root (where Farm.sln is), found from the test binaries; linked into every test project.</summary>
internal static class RepoRoot
{
    public static string Path { get; } = Find();

    /// <summary>A path under workloads/.</summary>
    public static string Workload(string relative) => System.IO.Path.Combine(Path, "workloads", relative);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Farm.sln"))) return dir.FullName;
        throw new InvalidOperationException("Farm.sln not found above the test directory");
    }
}
