using Akka.Actor;
using Farm.Cluster.Protocol;

namespace Farm.Cluster.Client;

/// <summary>Talks to the coordinator singleton from inside a node's actor system (farm sweep, the HTTP API).</summary>
public sealed class FarmClient(ActorSystem system, IActorRef coordinator)
{
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>SweepAccepted or SweepRejected.</summary>
    public Task<IFarmMessage> Submit(string specText, string? baseDir, IReadOnlyDictionary<string, string>? workloadTexts = null) =>
        coordinator.Ask<IFarmMessage>(new SubmitSweep(specText, baseDir, workloadTexts), Timeout);

    public Task<StatusReply> Status(SweepId? sweep = null) => coordinator.Ask<StatusReply>(new GetStatus(sweep), Timeout);

    /// <summary>SweepInfo or UnknownSweep.</summary>
    public Task<IFarmMessage> Sweep(SweepId sweep) => coordinator.Ask<IFarmMessage>(new GetSweep(sweep), Timeout);

    /// <summary>SweepCancelled or UnknownSweep.</summary>
    public Task<IFarmMessage> Cancel(SweepId sweep) => coordinator.Ask<IFarmMessage>(new CancelSweep(sweep), Timeout);

    /// <summary>Every result of a sweep in sweep order, reassembled from its chunks; null for an unknown sweep.</summary>
    public async Task<IReadOnlyList<SweepResultItem>?> Results(SweepId sweep)
    {
        var inbox = Inbox.Create(system);
        inbox.Send(coordinator, new GetResults(sweep));
        var items = new List<SweepResultItem>();
        while (true)
        {
            var reply = await inbox.ReceiveAsync(Timeout);
            if (reply is UnknownSweep) return null;
            if (reply is not ResultsChunk chunk) continue;
            items.AddRange(chunk.Items);
            if (chunk.Index == chunk.Total - 1) return items;
        }
    }

    /// <summary>
    /// Polls until the sweep has nothing left to run, reporting progress. A poll that gets no
    /// answer is asked again: while the coordinator singleton moves (its node died), a message
    /// can go to the old location and be lost.
    /// </summary>
    public async Task<SweepStatus> WaitForCompletion(SweepId sweep, Action<SweepStatus>? progress = null, TimeSpan? poll = null)
    {
        var perAsk = TimeSpan.FromSeconds(5);
        while (true)
        {
            StatusReply reply;
            try
            {
                reply = await coordinator.Ask<StatusReply>(new GetStatus(sweep), perAsk);
            }
            catch (AskTimeoutException)
            {
                continue;
            }
            var status = reply.Sweeps.Single();
            progress?.Invoke(status);
            if (status.Complete) return status;
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(200));
        }
    }
}
