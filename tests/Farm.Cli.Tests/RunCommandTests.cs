using System.Text.Json;
using Xunit;

namespace Farm.Cli.Tests;

public class RunCommandTests
{
    [Fact]
    public void Json_IsTheResultObjectOnStdout()
    {
        var (code, stdout, _) = FarmProcess.Run("run", "workloads/micro/wrprotect.yaml", "--policy", "kvm-3.1", "--format", "json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("completed", doc.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(64, doc.RootElement.GetProperty("zap").GetProperty("misaligned").GetInt64());
        Assert.Equal("kvm-3.1", doc.RootElement.GetProperty("trial").GetProperty("policy").GetString());
    }

    [Fact]
    public void Table_IsTheDefault()
    {
        var (code, stdout, _) = FarmProcess.Run("run", "workloads/micro/pt-clear.yaml");
        Assert.Equal(0, code);
        Assert.Contains("pte_write", stdout);
        Assert.Contains("completed", stdout);
    }

    [Fact]
    public void HostBug_ExitsWith3()
    {
        var (code, _, stderr) = FarmProcess.Run("run", "workloads/micro/prefetch-drain.yaml", "--policy", "kvm-3.1", "--format", "json");
        Assert.Equal(3, code);
        Assert.Contains("host-bug", stderr);
    }

    [Theory]
    [InlineData("--set", "mmu.nonsense=1", "unknown key 'mmu.nonsense'")]
    [InlineData("--set", "vm.vcpus=many", "not an integer")]
    [InlineData("--set", "novalue", "expected KEY=VALUE")]
    [InlineData("--policy", "kvm-2.6", "valid: kvm-3.1, kvm-3.3")]
    [InlineData("--format", "xml", "valid: json, table")]
    public void BadInput_ExitsNonZeroWithAClearMessage(string option, string value, string message)
    {
        var (code, stdout, stderr) = FarmProcess.Run("run", "workloads/micro/pt-clear.yaml", option, value);
        Assert.NotEqual(0, code);
        Assert.Contains(message, stdout + stderr);
        Assert.DoesNotContain("   at ", stdout + stderr); // no stack trace
    }

    [Fact]
    public void PolicyListAndSeeds_RunEveryTrial()
    {
        var (code, stdout, _) = FarmProcess.Run("run", "workloads/micro/wrprotect.yaml", "--policy", "kvm-3.1,kvm-3.3", "--seeds", "2", "--format", "json");
        Assert.Equal(0, code);
        Assert.StartsWith("[", stdout.TrimStart()); // nothing but the results on stdout (progress goes to stderr)
        using var doc = JsonDocument.Parse(stdout);
        var trials = doc.RootElement.EnumerateArray().Select(e => e.GetProperty("trial")).ToList();
        Assert.Equal(["kvm-3.1", "kvm-3.1", "kvm-3.3", "kvm-3.3"], trials.Select(t => t.GetProperty("policy").GetString()));
        Assert.Equal([1L, 2L, 1L, 2L], trials.Select(t => t.GetProperty("seed").GetInt64()));
    }

    [Fact]
    public void Comparison_PrintsTheCoverLetterTable()
    {
        var (code, stdout, _) = FarmProcess.Run("run", "workloads/micro/pt-clear.yaml", "--policy", "kvm-3.1,kvm-3.3", "--seeds", "2");
        Assert.Equal(0, code);
        Assert.Contains("mean", stdout);
        Assert.Contains("kvm_mmu_pte_write calls", stdout);
        Assert.Contains("run 2", stdout);
    }

    [Fact]
    public void MissingWorkloadFile_ExitsWith2()
    {
        var (code, _, stderr) = FarmProcess.Run("run", "workloads/none.yaml");
        Assert.Equal(2, code);
        Assert.Contains("does not exist", stderr);
    }
}
