using Xunit;
using static Farm.Cluster.Tests.Farm.ClusterTestKit;

namespace Farm.Cluster.Tests.Farm;

/// <summary>
/// The opening of the lost-coordinator tests: a coordinator frozen while a trial runs on each of
/// two one-slot workers, until both have finished theirs and hold results it never acknowledged;
/// then killed. Running is what the workers say: a trial the store calls running may still be on
/// its way to its worker, and a frozen coordinator never sends it.
/// </summary>
internal static class HeldResults
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A worker's busy slots and unacknowledged results, from its /metrics; (-1, -1) while its node (re)starts.</summary>
    public static async Task<(double Busy, double Unacked)> WorkerState(int management)
    {
        try
        {
            var m = PrometheusText.Parse(await Http.GetStringAsync($"http://127.0.0.1:{management}/metrics"));
            return (m.Sum("farm_worker_slots_busy"), m.Sum("farm_worker_results_unacknowledged"));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (-1, -1);
        }
    }

    /// <summary>Results held by each of the two workers when the coordinator was killed.</summary>
    public readonly record struct Held(int First, int Second)
    {
        public int Total => First + Second;

        /// <summary>Workers that held nothing: each finished between the look and the freeze (below).</summary>
        public int Empty => (First == 0 ? 1 : 0) + (Second == 0 ? 1 : 0);
    }

    /// <summary>
    /// Freezes <paramref name="coordinator"/> once each worker runs a trial, waits until both are
    /// done, kills it, and returns how many results each worker holds: its trial's (and any
    /// whose acknowledgement the freeze caught on its way), unless it finished between the
    /// look and the freeze, had it acknowledged and never got the next trial (the coordinator had
    /// stored the next one as running on it, and stopped before the message left): then none.
    /// </summary>
    public static async Task<Held> FreezeUntilWorkersHoldResults_ThenKill(ServeProcess coordinator, int m1, int m2, TimeSpan timeout)
    {
        await WaitUntil(async () => (await WorkerState(m1)).Busy == 1 && (await WorkerState(m2)).Busy == 1, timeout, "a trial running on each worker");
        coordinator.Suspend();
        await WaitUntil(async () => (await WorkerState(m1)).Busy == 0 && (await WorkerState(m2)).Busy == 0, timeout, "both workers done with their trials");
        var held = new Held((int)(await WorkerState(m1)).Unacked, (int)(await WorkerState(m2)).Unacked);
        Assert.True(held.Total >= 1, "the workers hold no result for a coordinator");
        coordinator.Kill();
        Assert.NotNull(await coordinator.WaitForExit(timeout));
        return held;
    }
}
