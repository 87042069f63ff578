using System.Runtime.CompilerServices;
using Akka.Actor;
using Farm.Cluster.Protocol;
using Farm.Cluster.Sweeps;

namespace Farm.Cluster.Client;

/// <summary>
/// Talks to the coordinator singleton from inside a node's actor system (farm sweep, the HTTP API).
/// A <see cref="RequestFailed"/> answer becomes a <see cref="FarmRequestException"/>.
/// </summary>
public sealed class FarmClient(ActorSystem system, Func<IActorRef> coordinatorProxy)
{
    public FarmClient(ActorSystem system, IActorRef coordinator) : this(system, () => coordinator)
    {
    }

    public ActorSystem System { get; } = system;

    /// <summary>Looked up per request: a node's web routes are mapped before its actors start.</summary>
    private IActorRef Coordinator => coordinatorProxy();

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Results asked for per page: the coordinator answers fewer when they would pass one message.</summary>
    public int PageItems { get; init; } = ProtocolLimits.MaxPageItems;

    /// <summary>SweepAccepted or SweepRejected.</summary>
    public async Task<IFarmMessage> Submit(string specText, string? baseDir, IReadOnlyDictionary<string, string>? workloadTexts = null) =>
        Checked(await Coordinator.Ask<IFarmMessage>(new SubmitSweep(specText, baseDir, workloadTexts), Timeout));

    /// <summary>A spec parsed in this process, to a coordinator in this process (no second parse); SweepAccepted or SweepRejected.</summary>
    public async Task<IFarmMessage> Submit(SweepSpec spec) =>
        Checked(await Coordinator.Ask<IFarmMessage>(new Coordinator.SubmitParsedSweep(spec), Timeout));

    public async Task<StatusReply> Status(SweepId? sweep = null) => Expect<StatusReply>(await Coordinator.Ask<IFarmMessage>(new GetStatus(sweep), Timeout));

    /// <summary>SweepInfo or UnknownSweep.</summary>
    public async Task<IFarmMessage> Sweep(SweepId sweep) => Checked(await Coordinator.Ask<IFarmMessage>(new GetSweep(sweep), Timeout));

    /// <summary>SweepCancelled or UnknownSweep.</summary>
    public async Task<IFarmMessage> Cancel(SweepId sweep) => Checked(await Coordinator.Ask<IFarmMessage>(new CancelSweep(sweep), Timeout));

    /// <summary>One page of a sweep's results from <paramref name="fromPosition"/> on; null for an unknown sweep.</summary>
    public async Task<ResultsPage?> ResultsPage(SweepId sweep, int fromPosition) =>
        Checked(await Coordinator.Ask<IFarmMessage>(new GetResultsPage(sweep, fromPosition, PageItems), Timeout)) switch
        {
            UnknownSweep => null,
            var reply => Expect<ResultsPage>(reply),
        };

    /// <summary>
    /// A sweep's results in sweep order, a page at a time (bounded memory here and on the
    /// coordinator); an unknown sweep yields nothing. Use <see cref="ResultsPage"/> to tell an unknown sweep apart.
    /// </summary>
    public async IAsyncEnumerable<SweepResultItem> ResultItems(SweepId sweep, [EnumeratorCancellation] CancellationToken cancel = default)
    {
        for (int? from = 0; from is { } at;)
        {
            cancel.ThrowIfCancellationRequested();
            var page = await ResultsPage(sweep, at);
            if (page is null) yield break;
            foreach (var item in page.Items) yield return item;
            from = page.NextPosition;
        }
    }

    /// <summary>Every result of a sweep in sweep order; null for an unknown sweep.</summary>
    public async Task<IReadOnlyList<SweepResultItem>?> Results(SweepId sweep)
    {
        if (await ResultsPage(sweep, 0) is not { } first) return null;
        var items = new List<SweepResultItem>(first.Items);
        for (int? from = first.NextPosition; from is { } at;)
        {
            var page = await ResultsPage(sweep, at) ?? throw new FarmRequestException($"sweep '{sweep}' went away while its results were read", false);
            items.AddRange(page.Items);
            from = page.NextPosition;
        }
        return items;
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
                reply = Expect<StatusReply>(await Coordinator.Ask<IFarmMessage>(new GetStatus(sweep), perAsk));
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

    private static IFarmMessage Checked(IFarmMessage reply) =>
        reply is RequestFailed f ? throw new FarmRequestException(f.Error, f.Unavailable) : reply;

    private static T Expect<T>(IFarmMessage reply) where T : IFarmMessage => Checked(reply) switch
    {
        T t => t,
        var other => throw new FarmRequestException($"the coordinator answered {other.GetType().Name}, not {typeof(T).Name}", false),
    };
}
