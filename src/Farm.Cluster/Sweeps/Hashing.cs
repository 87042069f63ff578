using System.Security.Cryptography;
using System.Text;

namespace Farm.Cluster.Sweeps;

internal static class Hashing
{
    /// <summary>The first 16 hex digits (64 bits) of SHA-256, the width of every Farm id.</summary>
    public static string Hex16(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];

    /// <summary>CRLF and CR to LF: a checkout with other line endings is the same file.</summary>
    public static string NormalizeNewlines(string text) => text.Replace("\r\n", "\n").Replace('\r', '\n');
}
