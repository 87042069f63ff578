using Farm.Tests.Shared;
using System.Text.RegularExpressions;
using Xunit;
using RepoRoot = Farm.Tests.Shared.RepoRoot;

namespace Farm.Deploy.Tests;

/// <summary>The Dockerfile and .dockerignore as text (no Docker engine here); PublishedAppTests replays the build.</summary>
public class DockerfileTests
{
    [Fact]
    public void Dockerfile_BuildsWithTheSdkAndRunsOnTheAspNetRuntime()
    {
        var f = Image.Dockerfile;
        Assert.True(f.Stages.Count >= 2, $"expected a build stage and a runtime stage, found {f.Stages.Count} FROM");
        // Image tags follow global.json's SDK and the projects' target framework.
        string sdk = Regex.Match(File.ReadAllText(Path.Combine(RepoRoot.Path, "global.json")), @"""version""\s*:\s*""(\d+\.\d+)\.").Groups[1].Value;
        string tfm = Regex.Match(File.ReadAllText(Path.Combine(RepoRoot.Path, "Directory.Build.props")), @"<TargetFramework>net(\d+\.\d+)<").Groups[1].Value;
        Assert.Equal($"mcr.microsoft.com/dotnet/sdk:{sdk}", Image.BuildStage(f).Image);
        Assert.NotNull(Image.BuildStage(f).Name);
        // aspnet, not runtime: Farm.Cluster's HTTP API needs the ASP.NET Core shared framework.
        Assert.Contains("Microsoft.AspNetCore.App", File.ReadAllText(Path.Combine(RepoRoot.Path, "src", "Farm.Cluster", "Farm.Cluster.csproj")));
        Assert.Equal($"mcr.microsoft.com/dotnet/aspnet:{tfm}", Image.FinalStage(f).Image);
    }

    [Fact]
    public void BuildStage_RunsTheRepositorysPublishScript()
    {
        var (run, script, output) = Image.Publish(Image.Dockerfile);
        Assert.Equal("build/publish.sh", script);
        Assert.True(File.Exists(Path.Combine(RepoRoot.Path, script)), $"{run}: {script} is not in the repository");
        Assert.StartsWith("/", output);
        // The script holds the one publish command; the Dockerfile must not grow a second one.
        Assert.DoesNotContain(Image.Dockerfile.Stages.SelectMany(s => s.All("RUN")), r => r.Arguments.Contains("dotnet publish", StringComparison.Ordinal));
    }

    [Fact]
    public void FinalStage_StartsTheAppHostAsTheNonRootAppUser()
    {
        var f = Image.Dockerfile;
        var final = Image.FinalStage(f);
        var user = final.All("USER").LastOrDefault();
        Assert.True(user is not null, "the final stage has no USER: the container would run as root");
        // The .NET images' non-root user (UID 1654, the pods' runAsUser); numeric forms let runAsNonRoot verify it.
        Assert.Contains(user.Arguments, new[] { "$APP_UID", "${APP_UID}", "1654", "app" });
        Assert.Equal("farm", Path.GetFileName(Image.EntryPoint(f)[0])); // the apphost: AssemblyName farm, no `dotnet farm.dll`
        Assert.Equal("farm", Image.EntryPointInOutput(f));
        Assert.Contains(final.All("RUN"), r => Regex.IsMatch(r.Arguments, @"apt-get install .*\bfonts-dejavu-core\b"));
    }

    [Fact]
    public void FinalStage_LogsJson()
    {
        // A container's log is read by a collector: one JSON object a line (NodeLogging.FormatVariable).
        var env = Image.FinalStage(Image.Dockerfile).All("ENV").Select(e => e.Arguments.Trim());
        Assert.Contains("FARM_LOG_FORMAT=json", env);
    }

    [Fact]
    public void Dockerignore_LeavesBuildOutputOutAndTheSourcesIn()
    {
        var ignore = Image.Ignore;
        foreach (string path in new[]
        {
            "src/Farm.Cli/bin/Release/net10.0/farm.dll", "src/Farm.Cluster/obj/project.assets.json", "bin/x", "obj/x",
            "tests/Farm.Cli.Tests/RunCommandTests.cs", ".git/HEAD", "k8s/validate/node_modules/yaml/package.json", "out/report.html",
        })
            Assert.True(ignore.IsIgnored(path), $".dockerignore lets {path} into the build context");
        var build = Image.BuildStage(Image.Dockerfile);
        var needed = build.All("COPY").Where(c => c.Flag("from") is null).SelectMany(c => c.CopyPaths.Sources)
            .Concat(["src/Farm.Cli/Farm.Cli.csproj", "src/Farm.Cluster/Hosting/FarmNode.cs", "cluster-config/serialization.conf", "build/publish.sh"]);
        foreach (string path in needed)
            Assert.False(ignore.IsIgnored(path), $".dockerignore leaves {path} out, and the build stage needs it");
    }
}

/// <summary>The build stage replayed (<see cref="PublishedApp"/>), then the apphost the image's ENTRYPOINT names, run.</summary>
[Trait("Category", "Slow")] // docs/testing.md: left out of the quick subset
public class PublishedAppTests(PublishedApp app) : IClassFixture<PublishedApp>
{
    [Fact]
    public void AppHost_IsTheExecutableFrameworkDependentFarm()
    {
        Assert.True(File.Exists(app.AppHost), $"the ENTRYPOINT's {Path.GetFileName(app.AppHost)} is not in the publish output");
        if (!OperatingSystem.IsWindows())
            Assert.True(File.GetUnixFileMode(app.AppHost).HasFlag(UnixFileMode.UserExecute), $"{app.AppHost} is not executable");
        // The runtime image must bring every shared framework the app was published against.
        string runtimeConfig = File.ReadAllText(Path.ChangeExtension(app.AppHost, ".runtimeconfig.json"));
        Assert.Contains("\"Microsoft.AspNetCore.App\"", runtimeConfig);
    }

    [Fact]
    public void AppHost_PrintsHelp()
    {
        var r = Proc.Run(app.AppHost, ["--help"]);
        Assert.True(r.Code == 0, r.ToString());
        foreach (string command in new[] { "run", "sweep", "serve", "submit", "report" })
            Assert.Matches($@"(?m)^\s+{command}\b", r.Out);
    }

    [Fact]
    public void AppHost_RunsATrial()
    {
        var r = Proc.Run(app.AppHost, ["run", "workloads/micro/wrprotect.yaml", "--set", "workload.pages=1", "--format", "json"]);
        Assert.True(r.Code == 0, r.ToString());
        using var result = System.Text.Json.JsonDocument.Parse(r.Out);
        Assert.Equal("completed", result.RootElement.GetProperty("outcome").GetString());
        Assert.Equal("wrprotect", result.RootElement.GetProperty("trial").GetProperty("workload").GetString());
    }

    [Fact]
    public void Serve_KnowsEveryFlagTheManifestsPass()
    {
        var help = Proc.Run(app.AppHost, ["serve", "--help"]);
        Assert.True(help.Code == 0, help.ToString());
        var known = Regex.Matches(help.Out, @"--[a-z][a-z-]*").Select(m => m.Value).ToHashSet();
        foreach (string overlay in Manifests.OverlayNames)
            foreach (var w in Manifests.Render(overlay).Where(o => o.IsWorkload))
                foreach (var c in w.Template.Containers)
                    foreach (string flag in c.Args.Where(a => a.StartsWith("--", StringComparison.Ordinal)))
                        Assert.True(known.Contains(flag), $"k8s/overlays/{overlay}: {c} passes {flag}, which `farm serve --help` does not list");
    }
}
