using System.Net;
using Farm.Simulation.Config;

namespace Farm.Cluster.Http;

/// <summary>
/// The HTTP API's listen list, parsed once: Kestrel takes several URLs separated by <c>;</c> and
/// binds each, so every entry is checked, not only the first. An entry is loopback-only when its
/// host is <c>localhost</c> or a loopback IP; Kestrel binds any other host name, <c>*</c>, <c>+</c>,
/// <c>0.0.0.0</c> and <c>[::]</c> to every interface.
/// </summary>
public sealed record ListenUrls(IReadOnlyList<ListenUrls.Entry> Entries)
{
    public sealed record Entry(string Url, string Host, bool IsLoopback);

    /// <summary>True when every entry is loopback-only (then no token is needed).</summary>
    public bool IsLoopback => Entries.All(e => e.IsLoopback);

    /// <summary>The list as Kestrel takes it.</summary>
    public override string ToString() => string.Join(';', Entries.Select(e => e.Url));

    /// <summary>Parses <c>URL[;URL...]</c>; an entry that is not an http(s) URL with a host is a <see cref="ConfigException"/>.</summary>
    public static ListenUrls Parse(string list)
    {
        var entries = new List<Entry>();
        foreach (string raw in list.Split(';', StringSplitOptions.TrimEntries))
        {
            if (raw.Length == 0) throw Invalid(list, "an empty entry");
            // Kestrel's wildcards are not valid URI hosts; they mean every interface.
            string uriText = raw.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0");
            if (!Uri.TryCreate(uriText, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
                throw Invalid(list, $"'{raw}'");
            if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
                throw Invalid(list, $"'{raw}' (a listen URL has a scheme, a host and a port, no path)");
            string host = uri.Host.Trim('[', ']');
            bool loopback = host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
            entries.Add(new Entry(raw, host, loopback));
        }
        return new ListenUrls(entries);
    }

    private static ConfigException Invalid(string list, string what) =>
        new($"--http: '{list}' is not valid: {what}; valid: http://HOST:PORT, several separated by ';', or off");
}
