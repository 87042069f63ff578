using System.Text.RegularExpressions;
using Farm.Tests.Shared;
using Xunit;
using RepoRoot = Farm.Tests.Shared.RepoRoot;

namespace Farm.Deploy.Tests;

/// <summary>
/// The README's test command, build/test, on a fresh machine: a fresh copy of the repository (its
/// tracked files, as a clone has them: no Node modules, no kubectl, no build output) and a PATH from
/// which gcc, binutils, chromium, node, npm and kubectl are absent. apt-get and id are stand-ins on
/// that PATH: apt-get records what it is asked and "installs" a package by putting this machine's
/// real tools of that package on the PATH; id says root or not. Everything else is real: the npm
/// installs (k8s/validate's modules, the kubectl package), the restore, the Release build and a
/// run of the tests that use each tool. It does not prove that Debian's apt-get installs the
/// packages; the CI run does that on a machine where they are missing.
/// </summary>
[Trait("Category", "Slow")]
public class TestCommandTests
{
    private static readonly string[] Absent = ["gcc", "cc", "objcopy", "objdump", "chromium", "node", "nodejs", "npm", "npx", "kubectl"];

    // What a fresh Debian machine with the .NET SDK lacks, in the order build/test names it.
    private const string Packages = "gcc binutils chromium nodejs npm";

    // One test of each tool: gcc and binutils, chromium, node with k8s/validate's modules, kubectl.
    private const string ToolTests = "FullyQualifiedName~NativeDifferentialTests.Object_code_is_position_independent"
        + "|FullyQualifiedName~ChromiumTests.ConsoleCheck|FullyQualifiedName~ManifestSchemaTests";

    [Fact]
    public void NotRoot_ToolsMissing_StopsWithOneLineNamingThePackages_AndBuildsNothing()
    {
        using var machine = new FreshMachine(root: false);
        var r = machine.Run([]);
        Assert.Equal(2, r.Code);
        Assert.Equal("", r.Out);
        Assert.Equal($"build/test: missing Debian packages: {Packages}; install them (sudo apt-get install -y {Packages}) or run build/test as root\n", r.Err);
        Assert.Empty(machine.AptCalls);
        Assert.False(Directory.Exists(Path.Combine(machine.Repo, "src", "Farm.Cli", "bin")), "it built before stopping");
    }

    [Fact]
    public void Root_FreshCopy_ToolsAbsent_InstallsThem_AndTheToolTestsPass()
    {
        using var machine = new FreshMachine(root: true);
        var r = machine.Run(["--filter", ToolTests]);
        Assert.True(r.Code == 0, $"build/test failed in a fresh copy:\n{r}");
        Assert.Equal(["update -qq", $"install -y -qq --no-install-recommends {Packages}"], machine.AptCalls);
        Assert.Contains("build/test: npm ci --prefix k8s/validate", r.Out);
        Assert.Contains("build/test: unpacking kubectl", r.Out);
        var summary = Regex.Match(r.Out, @"^tests: (\d+) passed, 0 failed, 0 skipped$", RegexOptions.Multiline);
        Assert.True(summary.Success, $"no closing line 'tests: N passed, 0 failed, 0 skipped':\n{r}");
        Assert.True(int.Parse(summary.Groups[1].Value) >= 6, $"too few tests ran:\n{summary.Value}");
    }

    /// <summary>The repository's tracked files in a temporary folder, and a PATH without the tests' tools.</summary>
    private sealed class FreshMachine : IDisposable
    {
        private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("farm-fresh-");
        private string Bin => Path.Combine(_temp.FullName, "bin");
        private string AptLog => Path.Combine(_temp.FullName, "apt-get.log");
        public string Repo => Path.Combine(_temp.FullName, "farm");

        public FreshMachine(bool root)
        {
            try
            {
                CopyTrackedFiles();
                MakePath(root);
            }
            catch
            {
                _temp.Delete(recursive: true);
                throw;
            }
        }

        public IReadOnlyList<string> AptCalls => File.Exists(AptLog) ? File.ReadAllLines(AptLog) : [];

        public Proc.Result Run(string[] args)
        {
            var environment = new Dictionary<string, string?>
            {
                ["PATH"] = Bin,
                ["FARM_CHROMIUM"] = null, // set by the build/test that runs these tests; the fresh one must find its own
                // Build servers would outlive the build holding its output pipes; the test host's MSBuild
                // variables belong to the build that ran the tests, not to this one.
                ["MSBUILDDISABLENODEREUSE"] = "1",
                ["UseSharedCompilation"] = "false",
            };
            foreach (string name in Environment.GetEnvironmentVariables().Keys.Cast<string>())
                if ((name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) && name != "MSBUILDDISABLENODEREUSE")
                    || name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
                    environment[name] = null;
            // A restore and a Release build of the whole solution: minutes on two cores; the limit bounds a hang.
            return Proc.Run(Path.Combine(Repo, "build", "test"), args, workingDirectory: Repo, timeout: TimeSpan.FromMinutes(40), environment: environment);
        }

        private void CopyTrackedFiles()
        {
            var ls = Proc.Run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"]);
            if (ls.Code != 0) throw new InvalidOperationException($"{RepoRoot.Path} is not a git checkout: this test copies what a clone would hold\n{ls}");
            foreach (string file in ls.Out.Split('\0', StringSplitOptions.RemoveEmptyEntries))
            {
                string from = Path.Combine(RepoRoot.Path, file);
                if (!File.Exists(from)) continue; // deleted in the work tree, not yet committed
                string to = Path.Combine(Repo, file);
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Copy(from, to);
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(to, File.GetUnixFileMode(from));
            }
        }

        /// <summary>Every program of this machine's PATH but the tests' tools, and the stand-ins for apt-get and id.</summary>
        private void MakePath(bool root)
        {
            Directory.CreateDirectory(Bin);
            var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Concat(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]).Where(Directory.Exists);
            var real = new Dictionary<string, string>();
            foreach (string dir in dirs)
                foreach (string file in Directory.EnumerateFiles(dir))
                {
                    string name = Path.GetFileName(file);
                    if (name.EndsWith("kubectl", StringComparison.Ordinal)) continue; // the outer build/test's build/kubectl/bin too
                    if (Absent.Contains(name)) { real.TryAdd(name, file); continue; }
                    if (name is "apt-get" or "id" || File.Exists(Path.Combine(Bin, name))) continue;
                    File.CreateSymbolicLink(Path.Combine(Bin, name), file);
                }
            string Tool(string name) => real.TryGetValue(name, out var path) ? path
                : throw new InvalidOperationException($"{name} is not installed here, so the stand-in apt-get cannot 'install' it: run build/test, which installs it");
            var provides = !root ? [] : new Dictionary<string, string[]>
            {
                ["gcc"] = [Tool("gcc")], ["binutils"] = [Tool("objcopy"), Tool("objdump")], ["chromium"] = [Tool("chromium")],
                ["nodejs"] = [Tool("node")], ["npm"] = [Tool("npm")],
            };
            string cases = string.Concat(provides.Select(p => $"    {p.Key}) ln -sf {string.Join(" ", p.Value.Select(v => $"'{v}'"))} '{Bin}/' ;;\n"));
            Script("apt-get", $"""
                #!/bin/sh
                # Stands in for apt-get: records the call; install links this machine's tools of each package into this PATH.
                echo "$*" >> '{AptLog}'
                [ "$1" = install ] || exit 0
                for p in "$@"; do
                  case "$p" in
                {cases}  esac
                done
                """);
            Script("id", $"""
                #!/bin/sh
                if [ "$1" = -u ]; then echo {(root ? 0 : 1000)}; else exec /usr/bin/id "$@"; fi
                """);
        }

        private void Script(string name, string text)
        {
            string path = Path.Combine(Bin, name);
            File.WriteAllText(path, text.ReplaceLineEndings("\n") + "\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        public void Dispose() => _temp.Delete(recursive: true);
    }
}
