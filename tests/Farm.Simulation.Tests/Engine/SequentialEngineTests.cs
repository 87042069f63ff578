using Farm.Simulation.Engine;
using Farm.Simulation.Kvm;
using Farm.Simulation.Results;
using Farm.Simulation.Tests.Kvm;
using Xunit;

namespace Farm.Simulation.Tests.Engine;

/// <summary>The sequential engine's shortcuts: the one-scan next/horizon and running guest code inline.</summary>
public class SequentialEngineTests
{
    /// <summary>
    /// NextWithHorizon is Next plus HorizonFor in one scan: for every mix of waiting, continuing and
    /// done vCPUs (none running, as in the sequential engine) it picks the same vCPU and the same
    /// horizon, ties on time broken by the lower id.
    /// </summary>
    [Fact]
    public void NextWithHorizon_AgreesWithNextAndHorizonFor()
    {
        var random = new Random(5);
        var request = new HaltRequest();
        for (int round = 0; round < 2000; round++)
        {
            int n = random.Next(1, 9);
            var order = new ServiceOrder(n);
            for (int i = 0; i < n; i++)
            {
                long time = random.Next(0, 6); // few distinct times: many ties
                switch (random.Next(3))
                {
                    case 0: order.Request(i, request, time); break;
                    case 1: order.Continue(i, time); break;
                    default: order.Finish(i); break;
                }
            }
            int next = order.NextWithHorizon(out long horizonTime, out int horizonId);
            Assert.Equal(order.Next(), next);
            if (next < 0) continue;
            Assert.Equal(order.HorizonFor(next), (horizonTime, horizonId));
        }
    }

    [Fact]
    public void NextWithHorizon_RefusesARunningVcpu()
    {
        var order = new ServiceOrder(2);
        order.Request(0, new HaltRequest(), 5); // vCPU 1 still runs from time 0
        Assert.Throws<InvalidOperationException>(() => order.NextWithHorizon(out _, out _));
    }

    /// <summary>
    /// Guest code must resume inline on the engine's thread whatever synchronization context the
    /// caller has (the guest model's pooled ValueTasks would post their continuations to it): a
    /// context that refuses posts changes nothing, and it is in place again afterwards.
    /// </summary>
    [Fact]
    public void RunsInline_UnderACallersSynchronizationContext()
    {
        string[] sets = ["policy=kvm-3.1", "vm.vcpus=4", "seed=3"];
        var expected = MicroHarness.Run("wrprotect", sets);
        var previous = SynchronizationContext.Current;
        var refusing = new RefusingContext();
        SynchronizationContext.SetSynchronizationContext(refusing);
        try
        {
            var actual = MicroHarness.Run("wrprotect", sets);
            Assert.Equal(Outcome.Completed, actual.Outcome);
            Assert.Equal(expected.ToJson(withRun: false), actual.ToJson(withRun: false));
            Assert.Same(refusing, SynchronizationContext.Current);
            Assert.Equal(0, refusing.Posts);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private sealed class RefusingContext : SynchronizationContext
    {
        public int Posts;

        public override void Post(SendOrPostCallback d, object? state) => Posts++; // dropped: the guest would hang
    }
}
