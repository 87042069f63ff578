using System.Net;

namespace Farm.Cluster.Http;

/// <summary>Where the coordinator's HTTP API listens and what it accepts.</summary>
public sealed record HttpApiOptions
{
    /// <summary>Loopback by default; any other address requires a token.</summary>
    public string Url { get; init; } = "http://127.0.0.1:8770";
    public string? Token { get; init; }
    public long MaxBodyBytes { get; init; } = 1 << 20;
    /// <summary>Results and report requests served at once; more get 429 (each may hold a sweep's parsed results).</summary>
    public int MaxHeavyRequests { get; init; } = 4;

    public bool IsLoopback
    {
        get
        {
            var host = new Uri(Url.Replace("*", "0.0.0.0").Replace("+", "0.0.0.0")).Host;
            return host == "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
        }
    }

    /// <summary>Refuses a configuration that would expose the API without a token.</summary>
    public void Validate()
    {
        if (!IsLoopback && string.IsNullOrEmpty(Token))
            throw new Simulation.Config.ConfigException($"http: {Url} is not a loopback address; give a bearer token (--token or FARM_API_TOKEN)");
    }
}
