using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Farm.Cli.Tests;

/// <summary>
/// `farm` as a real process against hostile and clumsy input (issue 16 items 1, 2, 9): every case
/// is exit 2 (bad input) or 5 (cannot listen) with one line naming what is wrong, never a crash
/// (a stack overflow exits 134), never an exception's name, never a run that ignored a typo.
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("farm-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Workload(string file) => Path.Combine(FarmProcess.Root, "workloads", file);

    private static void AssertBadInput((int Code, string Out, string Err) r, string message, int code = 2)
    {
        Assert.True(r.Code == code, $"exit {r.Code}, expected {code}\n{r.Out}\n{r.Err}");
        Assert.Contains(message, r.Err);
        Assert.DoesNotContain("   at ", r.Err);        // no stack trace
        Assert.DoesNotContain("Exception", r.Err);      // no exception names
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries)); // one line
    }

    private static string Deep(int levels) => new string('[', levels) + new string(']', levels);

    [Fact]
    public void Sweep_ASpecNested40000Deep_Exits2_NotAStackOverflow()
    {
        AssertBadInput(FarmProcess.Run("sweep", Write("deep.yaml", "name: x\nworkload: " + Deep(40_000) + "\n"), "-o", Path.Combine(_dir, "out")),
            "deep.yaml:2: mappings and sequences are nested more than 64 levels deep; the limit is 64");
        AssertBadInput(FarmProcess.Run("sweep", Write("deep.json", "{\"name\": " + Deep(40_000) + "}"), "-o", Path.Combine(_dir, "out")),
            "deep.json:1: objects and arrays are nested more than 64 levels deep; the limit is 64");
    }

    [Fact]
    public void Run_AWorkloadNested40000Deep_Exits2()
    {
        AssertBadInput(FarmProcess.Run("run", Write("deep.yaml", "kind: pt-clear\nconfig: " + Deep(40_000) + "\n")),
            "nested more than 64 levels deep; the limit is 64");
    }

    [Fact]
    public void Serve_AHoconConfigNested40000Deep_Exits2()
    {
        AssertBadInput(FarmProcess.Run("serve", "--port", "0", "--http", "off", "--config",
                Write("deep.conf", string.Concat(Enumerable.Repeat("a{", 40_000)) + new string('}', 40_000))),
            "nested more than 64 levels deep (braces and dotted paths); the limit is 64");
    }

    [Fact]
    public void AnUnknownFlag_Exits2_AndRunsNothing()
    {
        var r = FarmProcess.Run("run", Workload("micro/pt-clear.yaml"), "--polcy", "kvm-3.1", "--format", "json");
        AssertBadInput(r, "Unknown option 'polcy'");
        Assert.Equal("", r.Out); // no trial ran
        AssertBadInput(FarmProcess.Run("status", "--tokn", "x"), "Unknown option 'tokn'");
    }

    [Fact]
    public void AZeroGuestClock_IsRefused_NotEveryTrialFailing()
    {
        AssertBadInput(FarmProcess.Run("run", Workload("micro/pt-clear.yaml"), "--set", "cost.guest_ghz=0"),
            "cost.guest_ghz: 0 is out of range (valid: 0.001..100)");
        AssertBadInput(FarmProcess.Run("run", Workload("micro/pt-clear.yaml"), "--set", "cost.exit=9223372036854775807"),
            "cost.exit: 9223372036854775807 is out of range (valid: 0..1000000000)");
    }

    [Fact]
    public void APageBudgetBelowKvmsMinimum_IsRefused()
    {
        // KVM's kvm_vm_ioctl_set_nr_mmu_pages refuses fewer than KVM_MIN_ALLOC_MMU_PAGES (64): no host runs with such a budget.
        AssertBadInput(FarmProcess.Run("run", Workload("micro/pt-clear.yaml"), "--set", "mmu.pages_max=8"),
            "mmu.pages_max: 8 is out of range (valid: 0 for KVM's default, or 64..16777216; KVM refuses fewer than KVM_MIN_ALLOC_MMU_PAGES = 64 shadow pages in kvm_vm_ioctl_set_nr_mmu_pages)");
    }

    [Fact]
    public void SweepSlotsZero_IsRefusedLikeServe()
    {
        AssertBadInput(FarmProcess.Run("sweep", Workload("sweeps/seed-ablation.yaml"), "--slots", "0", "-o", Path.Combine(_dir, "out")),
            "--slots: 0 is not valid; valid: 1..1024");
        Assert.False(Directory.Exists(Path.Combine(_dir, "out"))); // refused before anything was created
    }

    [Fact]
    public void SpecShapes_EmptyAxesNullNameNul_AreRefused()
    {
        string w = Workload("micro/pt-clear.yaml");
        AssertBadInput(FarmProcess.Run("sweep", Write("a.yaml", $"name: x\nworkload: {w}\naxes: {{}}\n"), "-o", _dir),
            "axes: empty; give at least one axis");
        AssertBadInput(FarmProcess.Run("sweep", Write("n.yaml", $"name: ~\nworkload: {w}\n"), "-o", _dir),
            "n.yaml:1: name: must be 1 to 200 printable characters");
        AssertBadInput(FarmProcess.Run("sweep", Write("z.yaml", $"name: x\0y\nworkload: {w}\n"), "-o", _dir),
            "z.yaml:1: the text holds a NUL character");
    }

    [Fact]
    public void ADirectory_IsADirectory_NotMissing()
    {
        AssertBadInput(FarmProcess.Run("run", _dir), "is a directory; give a file");
        AssertBadInput(FarmProcess.Run("sweep", _dir), "is a directory; give a file");
    }

    [Fact]
    public void AnEndlessFile_IsReadOnlyToTheLimit()
    {
        if (!File.Exists("/dev/zero")) return;
        AssertBadInput(FarmProcess.Run("sweep", "/dev/zero", "-o", Path.Combine(_dir, "out")), "the limit is 1,048,576");
    }

    [Fact]
    public void BadUrlsAndOutputPaths_Exit2_InOneLine()
    {
        AssertBadInput(FarmProcess.Run("status", "--api", "not a url"), "--api: 'not a url' is not valid");
        AssertBadInput(FarmProcess.Run("results", "0000000000000000", "-o", Path.Combine(_dir, "no", "such", "dir", "r.json")),
            "-o: the directory of");
        AssertBadInput(FarmProcess.Run("report", "0000000000000000", "-o", _dir), "is a directory; give a file name");
        AssertBadInput(FarmProcess.Run("sweep", Workload("sweeps/seed-ablation.yaml"), "-o", Write("file", "")), "is a file; give a directory");
        AssertBadInput(FarmProcess.Run("serve", "--port", "0", "--http", "http://127.0.0.1:8770/api"), "no path");
        AssertBadInput(FarmProcess.Run("serve", "--port", "0", "--http", "off", "--seed-nodes", "notanaddress"), "--seed-nodes: 'notanaddress' is not valid");
        AssertBadInput(FarmProcess.Run("serve", "--port", "0", "--http", "off", "--hostname", "bad host"), "--hostname: 'bad host' is not valid");
    }

    [Fact]
    public void AListenListWithANonLoopbackEntry_NeedsTheToken()
    {
        var noToken = new Dictionary<string, string?> { ["FARM_API_TOKEN"] = null, ["FARM_API_TOKEN_FILE"] = null };
        var r = Farm.Tests.Shared.Proc.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "farm.dll"),
            "serve", "--port", "0", "--db", Path.Combine(_dir, "farm.db"), "--http", "http://localhost:28790/;http://0.0.0.0:28791"], environment: noToken);
        AssertBadInput((r.Code, r.Out, r.Err), "http: http://0.0.0.0:28791 is not a loopback address; give a bearer token");
    }

    [Fact]
    public void AnHttpPortInUse_Exits5()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var r = FarmProcess.Run("serve", "--port", "0", "--db", Path.Combine(_dir, "farm.db"), "--http", $"http://127.0.0.1:{port}");
            Assert.True(r.Code == 5, $"exit {r.Code}\n{r.Err}");
            Assert.Contains($"cannot listen on http://127.0.0.1:{port} for the HTTP API", r.Err);
            Assert.DoesNotContain("   at ", r.Err);
        }
        finally
        {
            listener.Stop();
        }
    }
}
