using System.Security.Cryptography;
using System.Text;
using Farm.Simulation.Config;

namespace Farm.Cluster.Http;

/// <summary>
/// The API's bearer token: compared in constant time, and read from a file or the environment so
/// that it need not appear on a command line (which every local user can read in <c>ps</c>).
/// </summary>
public static class BearerToken
{
    /// <summary>
    /// True when the Authorization header is <c>Bearer TOKEN</c>, the scheme's name in any case
    /// (RFC 7235 section 2.1: auth-scheme is case-insensitive; the token is not). Both sides are
    /// hashed first, so the comparison takes the same time whatever the header's length or its
    /// first wrong byte.
    /// </summary>
    public static bool Matches(string? authorization, string token)
    {
        const string Scheme = "Bearer ";
        authorization ??= "";
        if (authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
            authorization = string.Concat(Scheme, authorization.AsSpan(Scheme.Length));
        Span<byte> given = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(authorization), given);
        SHA256.HashData(Encoding.UTF8.GetBytes("Bearer " + token), expected);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }

    /// <summary>
    /// The token from, in order: <paramref name="flag"/> (--token), the file named by
    /// <paramref name="file"/> (--token-file) or <c>FARM_API_TOKEN_FILE</c>, then <c>FARM_API_TOKEN</c>;
    /// null when none is given. A file's text is trimmed of surrounding white space (a trailing newline).
    /// </summary>
    public static string? Resolve(string? flag, string? file)
    {
        if (flag is not null && file is not null) throw new ConfigException("--token and --token-file: give one, not both");
        string? token = flag;
        file ??= flag is null ? NonEmpty(Environment.GetEnvironmentVariable("FARM_API_TOKEN_FILE")) : null;
        if (file is not null)
            token = Farm.Workloads.Input.InputFile.ReadText(file, "token file", new Farm.Workloads.Input.InputLimits { MaxChars = 4096 }).Trim();
        token ??= NonEmpty(Environment.GetEnvironmentVariable("FARM_API_TOKEN"));
        if (token is null) return null;
        // ASCII only: HttpClient refuses to send any other character in a header, so a server given
        // such a token could never be reached by farm's own client ("Request headers must contain only ASCII characters").
        if (token.Length == 0 || token.Any(c => c is <= ' ' or > '~'))
            throw new ConfigException($"the bearer token{(file is not null ? $" in '{file}'" : "")} is not valid; valid: 1 or more printable ASCII characters without spaces");
        return token;
    }

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
