using System.Globalization;
using Farm.Simulation.Config;

namespace Farm.Workloads.Input;

/// <summary>
/// Bounds on any YAML or JSON text Farm reads (sweep specs, workload files, HTTP bodies,
/// config files), checked before a tree is built: a parser that recurses per level dies of a
/// stack overflow, not an exception, on text nested thousands of levels deep, and a few hundred
/// bytes of YAML aliases can stand for billions of nodes. Values and their reasons: docs/limits.md.
/// </summary>
public sealed record InputLimits
{
    /// <summary>The limits for specs, workload files and request bodies.</summary>
    public static readonly InputLimits Default = new();

    /// <summary>Characters of text (1 MiB: the largest real spec is a few KiB; the HTTP body limit is the same).</summary>
    public int MaxChars { get; init; } = 1 << 20;

    /// <summary>Nesting of mappings and sequences (Farm's formats need 4; System.Text.Json's own default is 64).</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>Nodes, counting each alias as the nodes it stands for (a 10,000-value axis, the trial limit, fits 10 times over).</summary>
    public int MaxNodes { get; init; } = 100_000;

    /// <summary>Aliases (<c>*name</c>) in one text; Farm's formats need none.</summary>
    public int MaxAliases { get; init; } = 1_000;

    /// <summary>Refuses text over <see cref="MaxChars"/> or holding a NUL character (no Farm format has one; YAML forbids it).</summary>
    public void CheckText(string text, string source)
    {
        if (text.Length > MaxChars)
            throw new ConfigException($"{source}: the text is {N(text.Length)} characters; the limit is {N(MaxChars)} (docs/limits.md)");
        int nul = text.IndexOf('\0');
        if (nul >= 0)
            throw new ConfigException($"{source}:{LineOf(text, nul)}: the text holds a NUL character; valid: text without NUL (YAML and JSON forbid it)");
    }

    internal static int LineOf(string text, int index) => text.AsSpan(0, index).Count('\n') + 1;

    internal static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
