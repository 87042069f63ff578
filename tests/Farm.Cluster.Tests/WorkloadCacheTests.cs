using Farm.Cluster.Worker;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>A worker parses each workload text once, not once per trial (issue 14 item 3).</summary>
public class WorkloadCacheTests
{
    [Fact]
    public void TicketsOfOneWorkload_ParseItOnce_AndBuildTheSameTrials()
    {
        var spec = Specs.Parse("""
            name: cache
            workloads: [../micro/pt-clear.yaml, ../micro/wrprotect.yaml]
            axes:
              policy: [kvm-3.1, kvm-3.3]
            seeds: 3
            """);
        var cache = new WorkloadCache();
        // 2 workloads × 2 policies × 3 seeds = 12 tickets over 2 workload texts: 2 parses.
        Assert.Equal(12, spec.Trials.Count);
        foreach (var t in spec.Trials)
        {
            var cached = t.Ticket.ToSpec(cache);
            var fresh = t.Ticket.ToSpec();
            Assert.Equal(fresh.Config.TrialId(fresh.WorkloadName), cached.Config.TrialId(cached.WorkloadName));
            Assert.Equal(t.ConfigId, cached.Config.TrialId(cached.WorkloadName));
        }
        Assert.Equal(2, cache.Parses);
    }
}
