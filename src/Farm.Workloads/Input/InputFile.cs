using System.Text;
using Farm.Simulation.Config;

namespace Farm.Workloads.Input;

/// <summary>
/// Reads a text file the local user named, at most <see cref="InputLimits.MaxChars"/> of it: a
/// directory is refused as a directory, and a device or pipe (<c>/dev/zero</c>, <c>&lt;(cmd)</c>)
/// is read only up to the limit, never without bound. Only for a user's own paths on their own
/// machine: a server never opens a path a client named.
/// </summary>
public static class InputFile
{
    /// <summary>The file's text; <paramref name="what"/> names it in errors ("sweep file", "workload file").</summary>
    public static string ReadText(string path, string what, InputLimits? limits = null)
    {
        limits ??= InputLimits.Default;
        if (Directory.Exists(path)) throw new ConfigException($"{what} '{path}' is a directory; give a file");
        if (!File.Exists(path)) throw new ConfigException($"{what} '{path}' does not exist");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 4096, FileOptions.SequentialScan);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var buffer = new char[limits.MaxChars + 1];
            int read = reader.ReadBlock(buffer, 0, buffer.Length);
            if (read > limits.MaxChars)
                throw new ConfigException($"{what} '{path}' is over {InputLimits.N(limits.MaxChars)} characters; the limit is {InputLimits.N(limits.MaxChars)} (docs/limits.md)");
            return new string(buffer, 0, read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{what} '{path}' cannot be read: {e.Message}");
        }
    }
}
