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

    /// <summary>The client side, as farm submit/status/results: the coordinator's HTTP API, no cluster membership.</summary>
    public sealed class Api(string url) : IDisposable
    {
        private readonly HttpClient _http = new() { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };

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
                return r.IsSuccessStatusCode ? System.Text.Json.Nodes.JsonNode.Parse(await r.Content.ReadAsStringAsync()) : null;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return null; // the coordinator is (re)starting
            }
        }

        public async Task<int> Done(string id) => (int?)(await Status(id))?["done"] ?? -1;

        public void Dispose() => _http.Dispose();
    }

    public static async Task WaitUntil(Func<Task<bool>> condition, TimeSpan timeout, string? what = null)
    {
        var end = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > end) throw new TimeoutException(what is null ? "condition not met in time" : $"not met in {timeout}: {what}");
            await Task.Delay(200);
        }
    }
}
