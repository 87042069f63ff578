using Xunit;
using Farm.Simulation.Results;

namespace Farm.Simulation.Tests.Kvm;

/// <summary>Problem 4: a freed page-table page reused as a data buffer.</summary>
public class FloodReuseTests
{
    private static Results.TrialResult Run(params string[] sets) => MicroHarness.Run("flood-reuse", sets);

    [Fact]
    public void Kvm33_ZapsTheStalePageOnTheThirdWrite()
    {
        var r = Run("policy=kvm-3.3", "workload.writes=32");
        Assert.Equal(Outcome.Completed, r.Outcome);
        // The buffer is A's former pgd. Its shadow page saw one write at A's exit (the pud_clear of
        // free_pgtables) with no fault walk after it; the buffer's 2nd store is its 3rd write: zapped.
        Assert.Equal(2, r.Long("flooding.emulations_on_dead_pages"));
        Assert.Equal(1, r.Long("zap.flooded"));
        Assert.True(r.Long("flooding.zaps_page_dead") >= 1);
    }

    [Fact]
    public void Kvm31_FaultsBetweenWritesKeepTheDetectorSilent()
    {
        var few = Run("policy=kvm-3.1", "workload.writes=16", "workload.touch_every=1");
        var many = Run("policy=kvm-3.1", "workload.writes=32", "workload.touch_every=1");
        Assert.Equal(Outcome.Completed, many.Outcome);
        // Every store is emulated on the dead page: the count grows with the writes.
        Assert.Equal(16, many.Long("flooding.emulations_on_dead_pages") - few.Long("flooding.emulations_on_dead_pages"));
        Assert.Equal(few.Long("zap.flooded"), many.Long("zap.flooded"));
    }

    [Fact]
    public void Kvm31_WithoutFaultsBetween_FloodsAtTheThirdWrite()
    {
        var r = Run("policy=kvm-3.1", "workload.writes=32", "workload.touch_every=0");
        Assert.Equal(Outcome.Completed, r.Outcome);
        var silent = Run("policy=kvm-3.1", "workload.writes=32", "workload.touch_every=1");
        Assert.True(r.Long("flooding.emulations_on_dead_pages") < silent.Long("flooding.emulations_on_dead_pages"));
        Assert.True(r.Long("zap.flooded") > silent.Long("zap.flooded"));
    }
}
