namespace Farm.Cluster.Http;

/// <summary>Where the coordinator's HTTP API listens and what it accepts.</summary>
public sealed record HttpApiOptions
{
    /// <summary>Loopback by default; any other address requires a token.</summary>
    public string Url { get; init; } = Hosting.NodeDefaults.HttpUrl;
    public string? Token { get; init; }
    public long MaxBodyBytes { get; init; } = 1 << 20;
    /// <summary>Results and report requests served at once; more get 429 (each may hold a sweep's parsed results).</summary>
    public int MaxHeavyRequests { get; init; } = 4;
    /// <summary>
    /// Submissions parsed and stored at once; more get 429. Each expands its spec in memory (about
    /// 50 MB for a 10,000-trial sweep): 40 at once took the coordinator to 2.2 GB (docs/failure-behaviour.md).
    /// </summary>
    public int MaxSubmissions { get; init; } = 4;

    /// <summary>True when every URL of the list binds loopback only (<see cref="ListenUrls"/>).</summary>
    public bool IsLoopback => ListenUrls.Parse(Url).IsLoopback;

    /// <summary>Refuses a malformed listen list, and one that would expose the API without a token.</summary>
    public void Validate()
    {
        var urls = ListenUrls.Parse(Url);
        if (!urls.IsLoopback && string.IsNullOrEmpty(Token))
        {
            string open = string.Join(", ", urls.Entries.Where(e => !e.IsLoopback).Select(e => e.Url));
            throw new Simulation.Config.ConfigException($"http: {open} is not a loopback address; give a bearer token (--token-file, FARM_API_TOKEN or --token)");
        }
    }
}
