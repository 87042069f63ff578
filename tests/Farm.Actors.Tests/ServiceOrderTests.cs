using Farm.Simulation.Engine;
using Farm.Simulation.Kvm;
using Xunit;

namespace Farm.Actors.Tests;

/// <summary>The actor engine's one-scan service decision (<see cref="ServiceOrder.Next(out long, out int)"/>).</summary>
public class ServiceOrderTests
{
    /// <summary>
    /// For every mix of running (or not yet started), waiting, continuing and done vCPUs, the one
    /// scan picks what <see cref="ServiceOrder.Next()"/> picks, with the horizon
    /// <see cref="ServiceOrder.EarliestElsewhere"/> gives, and both follow the rule written out
    /// here: each vCPU not done counts as (its request's time, id), or (resume time + 1, id) while
    /// running; the earliest is served if it is a request, else nothing yet; the horizon is the
    /// second earliest (none: long.MaxValue, int.MaxValue).
    /// </summary>
    [Fact]
    public void Next_OneScan_AgreesWithTheRule()
    {
        var random = new Random(18);
        var request = new HaltRequest();
        int served = 0, blocked = 0;
        for (int round = 0; round < 5000; round++)
        {
            int n = random.Next(1, 9);
            var order = new ServiceOrder(n);
            var keys = new List<(long Time, int Id, bool Running)>();
            for (int i = 0; i < n; i++)
            {
                long time = random.Next(0, 6); // few distinct times: many ties between requests and running vCPUs
                switch (random.Next(5))
                {
                    case 0: order.Request(i, request, time); keys.Add((time, i, false)); break;
                    case 1: order.Continue(i, time); keys.Add((time, i, false)); break;
                    case 2: order.Resume(i, time); keys.Add((time + 1, i, true)); break;
                    case 3: keys.Add((1, i, true)); break; // not started: running from time 0
                    default: order.Finish(i); break;
                }
            }
            keys.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Id.CompareTo(b.Id));
            int expected = keys.Count > 0 && !keys[0].Running ? keys[0].Id : -1;
            var horizon = keys.Count > 1 ? (keys[1].Time, keys[1].Id) : (long.MaxValue, int.MaxValue);

            int next = order.Next(out long horizonTime, out int horizonId);
            Assert.Equal(expected, next);
            Assert.Equal(order.Next(), next);
            if (next < 0)
            {
                blocked++;
                continue;
            }
            served++;
            Assert.Equal(horizon, (horizonTime, horizonId));
            order.EarliestElsewhere(next, out long elsewhereTime, out int elsewhereId);
            Assert.Equal(horizon, (elsewhereTime, elsewhereId));
        }
        Assert.True(served > 500 && blocked > 500, $"both outcomes exercised: {served} served, {blocked} blocked");
    }
}
