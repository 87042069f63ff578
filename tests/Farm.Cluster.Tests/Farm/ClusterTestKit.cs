using Xunit;

namespace Farm.Cluster.Tests.Farm;

/// <summary>What the process-based cluster tests share: free ports, the HTTP API client, waiting.</summary>
internal static class ClusterTestKit
{
    public static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        int port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>
    /// The README's farm as processes: a coordinator on a new store serving the HTTP API on a free
    /// port (remoting on a free one), one-slot workers joining through it, and the API's client.
    /// Disposing stops them all (the client, the workers last started first, the coordinator).
    /// </summary>
    public sealed class ProcessFarm : IDisposable
    {
        private ProcessFarm(string db, int http)
        {
            Db = db;
            HttpUrl = $"http://127.0.0.1:{http}";
            Api = new Api(HttpUrl);
        }

        /// <summary>The store's file, the coordinator's alone while it runs.</summary>
        public string Db { get; }

        public string HttpUrl { get; }

        public ServeProcess Coordinator { get; private set; } = null!;

        public List<ServeProcess> Workers { get; } = [];

        /// <summary>Each worker's management port (its /metrics), when started with <c>managed</c>.</summary>
        public List<int> Management { get; } = [];

        public Api Api { get; }

        /// <summary>Starts the coordinator, then <paramref name="workers"/> workers, each with a management endpoint when <paramref name="managed"/>.</summary>
        public static ProcessFarm Start(int workers, bool managed = false)
        {
            var farm = new ProcessFarm(ClusterSweepTests.TempDb(), FreePort());
            try
            {
                farm.Coordinator = farm.StartCoordinator();
                for (int i = 0; i < workers; i++)
                {
                    string[] args = ["--roles", "worker", "--port", "0", "--seed-nodes", farm.Coordinator.Address, "--slots", "1"];
                    if (managed)
                    {
                        farm.Management.Add(FreePort());
                        args = [.. args, "--management-port", $"{farm.Management[^1]}"];
                    }
                    farm.Workers.Add(new ServeProcess(args));
                }
                return farm;
            }
            catch
            {
                farm.Dispose(); // a node that did not start: never leave the others behind
                throw;
            }
        }

        /// <summary>A coordinator on this farm's store and HTTP address (the first, or one restarted after it), on a free remoting port.</summary>
        public ServeProcess StartCoordinator(params string[] extra) =>
            new(["--roles", "coordinator", "--port", "0", "--db", Db, "--http", HttpUrl, .. extra]);

        public void Dispose()
        {
            Api.Dispose();
            for (int i = Workers.Count - 1; i >= 0; i--) Workers[i].Dispose();
            Coordinator?.Dispose();
        }
    }

    /// <summary>The client side, as farm submit/status/results: the coordinator's HTTP API, no cluster membership.</summary>
    public sealed class Api(string url) : IDisposable
    {
        private readonly HttpClient _http = new() { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) };

        /// <summary>As farm submit does: the spec is parsed here and sent with its workload files' text (the server opens no client path).</summary>
        public async Task<string> Submit(string spec)
        {
            string envelope = global::Farm.Cluster.Http.SubmitEnvelope.Of(global::Farm.Cluster.Sweeps.SweepSpec.Parse(spec, RepoPaths.Workloads));
            var r = await _http.PostAsync("/api/sweeps", new StringContent(envelope, System.Text.Encoding.UTF8, global::Farm.Cluster.Http.FarmHttpApi.EnvelopeType));
            Assert.Equal(System.Net.HttpStatusCode.Accepted, r.StatusCode);
            return (string)System.Text.Json.Nodes.JsonNode.Parse(await r.Content.ReadAsStringAsync())!["sweep"]!;
        }

        public async Task<System.Text.Json.Nodes.JsonNode?> Status(string id)
        {
            try
            {
                var r = await _http.GetAsync($"/api/sweeps/{id}");
                if (r.IsSuccessStatusCode) return System.Text.Json.Nodes.JsonNode.Parse(await r.Content.ReadAsStringAsync());
                LastFailure = $"{(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}";
                return null;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                LastFailure = $"{e.GetType().Name}: {e.Message}";
                return null; // the coordinator is (re)starting
            }
        }

        /// <summary>A GET's status and body, or null while the coordinator does not answer.</summary>
        public async Task<(int Code, string Body)?> Get(string path)
        {
            try
            {
                var r = await _http.GetAsync(path);
                return ((int)r.StatusCode, await r.Content.ReadAsStringAsync());
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return null;
            }
        }

        public async Task<int> Done(string id) => (int?)(await Status(id))?["done"] ?? -1;

        /// <summary>Why the last status request got no status (for the message of a wait that ran out).</summary>
        public string? LastFailure { get; private set; }

        public void Dispose() => _http.Dispose();
    }

    /// <summary>
    /// How long a wait may see no progress before it calls the run hung. It bounds a hang, never the
    /// work: a slow or loaded two-core machine that keeps finishing trials does not run out of it.
    /// </summary>
    public static readonly TimeSpan Stall = TimeSpan.FromMinutes(5);

    /// <summary>Waits until at least <paramref name="count"/> of the sweep's trials are done; fails only when
    /// the done count has not moved for <see cref="Stall"/> (a restarting coordinator answers -1 meanwhile).</summary>
    public static async Task WaitForDone(Api api, string id, int count, string? what = null)
    {
        int last = int.MinValue;
        var sinceChange = System.Diagnostics.Stopwatch.StartNew();
        while (await api.Done(id) is var done && done < count)
        {
            if (done != last) (last, sinceChange) = (done, System.Diagnostics.Stopwatch.StartNew());
            else if (sinceChange.Elapsed > Stall)
                throw new TimeoutException($"{what ?? $"sweep {id}"}: {done} of {count} trials done and none finished in {Stall}"
                    + (done < 0 ? $"; last status request: {api.LastFailure}" : ""));
            await Task.Delay(200); // the poll interval: nothing waits on it passing
        }
    }

    /// <summary>Polls until the condition holds; <paramref name="timeout"/> only bounds a hang (give it generously).</summary>
    public static async Task WaitUntil(Func<Task<bool>> condition, TimeSpan timeout, string? what = null)
    {
        var end = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > end) throw new TimeoutException(what is null ? "condition not met in time" : $"not met in {timeout}: {what}");
            await Task.Delay(200); // the poll interval: nothing waits on it passing
        }
    }
}
