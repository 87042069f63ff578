namespace Farm.Workloads.Tests;

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

    public static string Temp(string name, string content)
    {
        var dir = Path.Combine(Path.GetTempPath(), "farm-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
