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

        public async Task<string> Submit(string spec)
        {
            var r = await _http.PostAsync("/api/sweeps", new StringContent(spec, System.Text.Encoding.UTF8, "application/yaml"));
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
