using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Akka.Actor;
using Farm.Cluster.Client;
using Farm.Cluster.Http;
using Farm.Cluster.Protocol;

namespace Farm.Cluster.Tests.HttpContract;

/// <summary>
/// The HTTP API in front of a stand-in coordinator whose answer to each request the test decides
/// (null: no answer yet, the request kept in <see cref="Unanswered"/>), so that every error class
/// can be produced at once, without a cluster or a store.
/// </summary>
internal sealed class FakeCoordinatorApi : IAsyncDisposable
{
    public const string Token = "t0ken";

    private sealed class Coordinator : ReceiveActor
    {
        public Coordinator(Func<object, IFarmMessage?> answer, BlockingCollection<(object Request, IActorRef ReplyTo)> unanswered) => ReceiveAny(m =>
        {
            if (answer(m) is { } reply) Sender.Tell(reply);
            else unanswered.Add((m, Sender));
        });
    }

    private readonly ActorSystem _system;
    private readonly Microsoft.AspNetCore.Builder.WebApplication _app;

    private FakeCoordinatorApi(ActorSystem system, Microsoft.AspNetCore.Builder.WebApplication app, BlockingCollection<(object, IActorRef)> unanswered)
    {
        _system = system;
        _app = app;
        Unanswered = unanswered;
        Http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromMinutes(2) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    }

    /// <summary>A client that sends the token.</summary>
    public HttpClient Http { get; }

    public Microsoft.AspNetCore.Builder.WebApplication App => _app;

    /// <summary>Requests the coordinator has not answered, in arrival order, with whom to answer.</summary>
    public BlockingCollection<(object Request, IActorRef ReplyTo)> Unanswered { get; }

    public static async Task<FakeCoordinatorApi> Start(Func<object, IFarmMessage?> answer, HttpApiOptions? options = null, TimeSpan? askTimeout = null)
    {
        var system = ActorSystem.Create("fake-coordinator", "akka.loglevel = ERROR\nakka.stdout-loglevel = ERROR");
        var unanswered = new BlockingCollection<(object, IActorRef)>();
        var coordinator = system.ActorOf(Props.Create(() => new Coordinator(answer, unanswered)));
        var client = new FarmClient(system, coordinator) { Timeout = askTimeout ?? TimeSpan.FromMinutes(2) };
        var app = FarmHttpApi.Build(client, (options ?? new HttpApiOptions()) with { Url = "http://127.0.0.1:0", Token = Token });
        await app.StartAsync();
        return new FakeCoordinatorApi(system, app, unanswered);
    }

    /// <summary>A coordinator that knows no sweep.</summary>
    public static IFarmMessage? KnowsNothing(object request) => request switch
    {
        GetStatus => new StatusReply([], null),
        CancelSweep c => new UnknownSweep(c.Sweep),
        GetResultsPage g => new UnknownSweep(g.Sweep),
        GetSweep g => new UnknownSweep(g.Sweep),
        SubmitSweep => new SweepRejected("refused by the stand-in"),
        _ => null,
    };

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _system.Terminate();
    }
}
