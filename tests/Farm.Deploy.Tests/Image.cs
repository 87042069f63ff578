using Farm.Tests.Shared;
using RepoRoot = Farm.Tests.Shared.RepoRoot;

namespace Farm.Deploy.Tests;

/// <summary>What the tests need to know of the Dockerfile: its stages, the publish step, and where the apphost lands.</summary>
internal static class Image
{
    public static Dockerfile Dockerfile => Dockerfile.Load(Path.Combine(RepoRoot.Path, "Dockerfile"));
    public static DockerIgnore Ignore => DockerIgnore.Load(Path.Combine(RepoRoot.Path, ".dockerignore"));

    public static DockerStage BuildStage(Dockerfile f) => f.Stages[0];
    public static DockerStage FinalStage(Dockerfile f) => f.Stages[^1];

    /// <summary>The build stage's RUN of the publish script: the script's path and the output folder it is given.</summary>
    public static (DockerInstruction Run, string Script, string OutputDir) Publish(Dockerfile f)
    {
        var run = BuildStage(f).All("RUN").Single(r => r.Words.Any(w => w.EndsWith("publish.sh", StringComparison.Ordinal)));
        var words = run.Words.ToList();
        int i = words.FindIndex(w => w.EndsWith("publish.sh", StringComparison.Ordinal));
        if (i + 1 >= words.Count) throw new FormatException($"{run}: no output folder after the script");
        return (run, words[i], words[i + 1]);
    }

    /// <summary>The ENTRYPOINT's program as a path inside the publish output (it must be the published apphost).</summary>
    public static string EntryPointInOutput(Dockerfile f)
    {
        var final = FinalStage(f);
        string entry = EntryPoint(f)[0];
        var (_, _, output) = Publish(f);
        var copy = final.All("COPY").Single(c => c.Flag("from") == BuildStage(f).Name);
        var (sources, destination) = copy.CopyPaths;
        if (sources.Count != 1 || sources[0].TrimEnd('/') != output.TrimEnd('/'))
            throw new FormatException($"{copy}: the final stage should copy the publish output {output}");
        string dest = Path.IsPathRooted(destination) ? destination : Path.Combine(final.WorkDir, destination);
        string relative = Path.GetRelativePath(dest, entry);
        if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
            throw new FormatException($"ENTRYPOINT {entry} is not under {dest}, where the publish output is copied");
        return relative;
    }

    /// <summary>The exec form of ENTRYPOINT (a JSON array); the shell form would put /bin/sh between SIGTERM and farm.</summary>
    public static string[] EntryPoint(Dockerfile f)
    {
        var entry = FinalStage(f).All("ENTRYPOINT").Last();
        return System.Text.Json.JsonSerializer.Deserialize<string[]>(entry.Arguments) is { Length: > 0 } a
            ? a : throw new FormatException($"{entry}: expected a non-empty JSON array");
    }
}

/// <summary>
/// The image's build stage, replayed without Docker: the build stage's COPY sources are copied from the
/// repository (minus what .dockerignore leaves out of the context) into a temporary folder, and the
/// publish script the stage RUNs is run there. So a file the build needs but the Dockerfile does not
/// copy, or .dockerignore drops, fails here. Once per test class: it takes a minute or two.
/// </summary>
public sealed class PublishedApp : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("farm-deploy-");

    internal string Context => Path.Combine(_temp.FullName, "context");
    internal string Output => Path.Combine(_temp.FullName, "publish");
    internal string AppHost { get; }

    public PublishedApp()
    {
        try
        {
            AppHost = Replay();
        }
        catch
        {
            _temp.Delete(recursive: true); // Dispose is not called when a fixture fails to build
            throw;
        }
    }

    private string Replay()
    {
        var dockerfile = Image.Dockerfile;
        var ignore = Image.Ignore;
        var build = Image.BuildStage(dockerfile);
        foreach (var copy in build.All("COPY"))
        {
            if (copy.Flag("from") is not null) continue;
            var (sources, destination) = copy.CopyPaths;
            string inWorkDir = Path.GetRelativePath(build.WorkDir, Path.Combine(build.WorkDir, destination));
            if (inWorkDir.StartsWith("..", StringComparison.Ordinal)) throw new NotSupportedException($"{copy}: only destinations under WORKDIR are replayed");
            string dest = Path.Combine(Context, inWorkDir);
            foreach (string source in sources) CopyFromContext(source, dest, sources.Count > 1 || destination.EndsWith('/'), ignore, copy);
        }
        var (run, script, _) = Image.Publish(dockerfile);
        var environment = new Dictionary<string, string?>
        {
            // Build servers would outlive the publish holding its output pipes; the test host's MSBuild
            // variables belong to the build that ran the tests, not to this one.
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["UseSharedCompilation"] = "false",
        };
        foreach (string name in Environment.GetEnvironmentVariables().Keys.Cast<string>())
            if (name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) && name != "MSBUILDDISABLENODEREUSE") environment[name] = null;
        var r = Proc.Run("bash", [script, Output], workingDirectory: Context, timeout: TimeSpan.FromMinutes(10), environment: environment);
        if (r.Code != 0) throw new InvalidOperationException($"{run} failed in a copy of the build context:\n{r}");
        return Path.Combine(Output, Image.EntryPointInOutput(dockerfile));
    }

    private static void CopyFromContext(string source, string dest, bool intoFolder, DockerIgnore ignore, DockerInstruction copy)
    {
        string relative = source.TrimStart('/').TrimEnd('/');
        if (relative.IndexOfAny(['*', '?', '[']) >= 0) throw new NotSupportedException($"{copy}: wildcards are not replayed by this test");
        string from = Path.Combine(Farm.Tests.Shared.RepoRoot.Path, relative);
        if (ignore.IsIgnored(relative) || !Path.Exists(from))
            throw new InvalidOperationException($"{copy}: '{source}' is not in the build context (missing, or left out by .dockerignore)");
        if (File.Exists(from))
        {
            string to = intoFolder ? Path.Combine(dest, Path.GetFileName(from)) : dest;
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(from, to);
            return;
        }
        // A folder: its contents go into the destination, as with docker's COPY.
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string inContext = Path.GetRelativePath(Farm.Tests.Shared.RepoRoot.Path, file);
            if (ignore.IsIgnored(inContext)) continue;
            string to = Path.Combine(dest, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
    }

    public void Dispose() => _temp.Delete(recursive: true);
}
