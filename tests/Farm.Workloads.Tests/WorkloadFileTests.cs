using Farm.Simulation;
using Farm.Simulation.Config;
using Xunit;
using Farm.Simulation.Results;

namespace Farm.Workloads.Tests;

public class WorkloadFileTests
{
    public static TheoryData<string, string, string> MicroFiles() => new()
    {
        { "micro/pt-clear.yaml", "kvm-3.1", "completed" },
        { "micro/pt-clear.yaml", "kvm-3.3", "completed" },
        { "micro/pt-clear-erms.yaml", "kvm-3.1", "completed" },
        { "micro/wrprotect.yaml", "kvm-3.1", "completed" },
        { "micro/wrprotect.yaml", "kvm-3.3", "completed" },
        { "micro/prefetch-drain.yaml", "kvm-3.1", "host-bug" },
        { "micro/prefetch-drain.yaml", "kvm-3.3", "completed" },
        { "micro/flood-reuse.yaml", "kvm-3.1", "completed" },
        { "micro/flood-reuse.yaml", "kvm-3.3", "completed" },
        { "micro/pae-high-half.yaml", "kvm-3.1", "completed" },
        { "micro/pae-high-half.yaml", "kvm-3.3", "completed" },
    };

    [Theory]
    [InlineData("kvm-3.1")]
    [InlineData("kvm-3.3")]
    public void KernbenchPaeFile_RunsOnThePaeGuest_AtASmallScale(string policy)
    {
        var spec = WorkloadFile.Load(RepoPaths.Workload("kernbench-pae.yaml"))
            .ToTrial([KeyValuePair.Create("policy", policy), KeyValuePair.Create("workload.scale", "0.001")]);
        Assert.Equal("pae", spec.Config.Text("vm.paging"));
        Assert.Equal("linux-3.x-pae", spec.Config.Text("guest.flavour"));
        var r = Trial.RunSequential(spec);
        Assert.True(r.Outcome == Outcome.Completed, r.Error);
        Assert.True(r.Long("exits.cr3") > 0);
        Assert.Equal(r.Long("guest.pt_pages_allocated"), r.Long("guest.pt_pages_freed"));
    }

    [Theory]
    [InlineData("kernbench-pae.yaml", "vm.paging", "x86-64", "'linux-3.x-pae' is built for vm.paging pae, not x86-64")]
    [InlineData("kernbench-32.yaml", "vm.paging", "pae", "'linux-3.x-i386' is built for vm.paging i386, not pae")]
    [InlineData("kernbench.yaml", "guest.flavour", "linux-3.x-pae", "'linux-3.x-pae' is built for vm.paging pae, not x86-64")]
    public void FlavourAndPagingMismatch_FailsWhenTheTrialIsResolved(string file, string key, string value, string message)
    {
        var e = Assert.Throws<ConfigException>(() => WorkloadFile.Load(RepoPaths.Workload(file)).ToTrial([KeyValuePair.Create(key, value)]));
        Assert.Contains(message, e.Message);
        Assert.Contains("valid pairs: x86-64 with linux-3.x, linux-3.x-erms or recent; i386 with linux-3.x-i386; pae with linux-3.x-pae", e.Message);
    }

    [Theory]
    [MemberData(nameof(MicroFiles))]
    public void EveryMicroWorkloadFile_RunsToItsDocumentedOutcome(string file, string policy, string outcome)
    {
        var spec = WorkloadFile.Load(RepoPaths.Workload(file)).ToTrial([KeyValuePair.Create("policy", policy)]);
        Assert.Equal(outcome, Trial.RunSequential(spec).Outcome.Name());
    }

    [Fact]
    public void FileKeys_OverrideThePreset_AndSetsOverrideTheFile()
    {
        var file = WorkloadFile.Load(RepoPaths.Workload("micro/wrprotect.yaml"));
        var spec = file.ToTrial([KeyValuePair.Create("policy", "kvm-3.3")]);
        Assert.False(spec.Config.Bool("mmu.unsync"));
        var overridden = file.ToTrial([KeyValuePair.Create("mmu.unsync", "true")]);
        Assert.True(overridden.Config.Bool("mmu.unsync"));
    }

    [Fact]
    public void RawByteRoutine_ReplacesTheFlavourRoutine()
    {
        // clear_page as "mov ecx, 4096; xor eax, eax; rep stosb; ret": the ERMS routine, given as bytes.
        string yaml = """
            kind: pt-clear
            config:
              policy: kvm-3.1
            routines:
              clear_page: { bits: 64, bytes: "b9 00 10 00 00 31 c0 f3 aa c3" }
            """;
        var custom = Trial.RunSequential(WorkloadFile.Load(RepoPaths.Temp("custom.yaml", yaml)).ToTrial([]));
        var erms = Trial.RunSequential(WorkloadFile.Load(RepoPaths.Workload("micro/pt-clear-erms.yaml")).ToTrial([KeyValuePair.Create("policy", "kvm-3.1")]));
        Assert.Equal(Outcome.Completed, custom.Outcome);
        Assert.Equal(erms.Root["emulation"]!.ToJsonString(), custom.Root["emulation"]!.ToJsonString());
        Assert.Equal(erms.Long("mmu_lock.by_site.pte_write.acquisitions"), custom.Long("mmu_lock.by_site.pte_write.acquisitions"));
    }

    [Theory]
    [InlineData("kind: pt-clear\nconfig: [1, 2\n", "malformed YAML")]
    [InlineData("kind: pt-clear\nbogus: 1\n", "unknown key 'bogus'")]
    [InlineData("config:\n  vm.vcpus: 2\n", "missing 'kind'")]
    [InlineData("kind: kernel-build-9000\n", "valid: pt-clear")]
    [InlineData("kind: pt-clear\nroutines:\n  zap_everything: { bytes: c3 }\n", "unknown routine 'zap_everything'")]
    [InlineData("kind: pt-clear\nroutines:\n  clear_page: { bytes: \"zz\" }\n", "not hex")]
    [InlineData("kind: pt-clear\nroutines:\n  clear_page: { bits: 16, bytes: c3 }\n", "bitness must be 32 or 64")]
    [InlineData("kind: pt-clear\nconfig:\n  workload: { nested: 1 }\n", "must be a single value")]
    [InlineData("- just\n- a list\n", "one YAML mapping")]
    public void BadFiles_AreClearErrorsNamingTheFile(string yaml, string message)
    {
        var path = RepoPaths.Temp("bad.yaml", yaml);
        var e = Assert.Throws<ConfigException>(() => WorkloadFile.Load(path));
        Assert.Contains(message, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void UnknownConfigKey_InAFile_NamesTheValidWorkloadKeys()
    {
        var path = RepoPaths.Temp("badkey.yaml", "kind: pt-clear\nconfig:\n  workload.pages: 3\n");
        var e = Assert.Throws<ConfigException>(() => WorkloadFile.Load(path).ToTrial([]));
        Assert.Contains("workload.pages", e.Message);
        Assert.Contains("workload.regions", e.Message);
    }

    [Fact]
    public void MissingFile_IsAClearError()
    {
        var e = Assert.Throws<ConfigException>(() => WorkloadFile.Load("/nonexistent/w.yaml"));
        Assert.Contains("does not exist", e.Message);
    }
}
