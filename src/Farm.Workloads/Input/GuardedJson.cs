using System.Text;
using System.Text.Json;
using Farm.Simulation.Config;

namespace Farm.Workloads.Input;

/// <summary>
/// Parses JSON after a streaming pass with <see cref="Utf8JsonReader"/> (no recursion) has checked
/// it against <see cref="InputLimits"/>: the same size, depth and node bounds as YAML, so a spec
/// is held to one set of limits whichever syntax it is written in.
/// </summary>
public static class GuardedJson
{
    /// <summary>The options every JSON read in Farm uses: the depth limit, comments skipped.</summary>
    public static JsonDocumentOptions DocumentOptions(InputLimits? limits = null) =>
        new() { MaxDepth = (limits ?? InputLimits.Default).MaxDepth, CommentHandling = JsonCommentHandling.Skip };

    /// <summary>Parses <paramref name="text"/>; malformed or over-limit JSON is a <see cref="ConfigException"/> naming the source and line.</summary>
    public static JsonDocument Parse(string text, string source, InputLimits? limits = null)
    {
        limits ??= InputLimits.Default;
        byte[] utf8 = Check(text, source, limits);
        try
        {
            return JsonDocument.Parse(utf8, DocumentOptions(limits));
        }
        catch (JsonException e)
        {
            throw Malformed(source, e);
        }
    }

    /// <summary>Checks <paramref name="text"/> against the limits without building a tree; returns its UTF-8 bytes.</summary>
    public static byte[] Check(string text, string source, InputLimits? limits = null)
    {
        limits ??= InputLimits.Default;
        limits.CheckText(text, source);
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = int.MaxValue, CommentHandling = JsonCommentHandling.Skip });
            long nodes = 0;
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= limits.MaxDepth)
                    throw Over(source, utf8, reader, $"objects and arrays are nested more than {limits.MaxDepth} levels deep; the limit is {limits.MaxDepth}");
                if (reader.TokenType is not (JsonTokenType.PropertyName or JsonTokenType.EndObject or JsonTokenType.EndArray or JsonTokenType.Comment)
                    && ++nodes > limits.MaxNodes)
                    throw Over(source, utf8, reader, $"more than {InputLimits.N(limits.MaxNodes)} values; the limit is {InputLimits.N(limits.MaxNodes)}");
            }
            return utf8;
        }
        catch (JsonException e)
        {
            throw Malformed(source, e);
        }
    }

    private static ConfigException Malformed(string source, JsonException e) =>
        new($"{source}:{(e.LineNumber ?? 0) + 1}: malformed JSON: {e.Message}");

    private static ConfigException Over(string source, byte[] utf8, Utf8JsonReader at, string what) =>
        new($"{source}:{LineOf(utf8, at.TokenStartIndex)}: {what} (docs/limits.md)");

    private static int LineOf(byte[] utf8, long index) => utf8.AsSpan(0, (int)index).Count((byte)'\n') + 1;
}
