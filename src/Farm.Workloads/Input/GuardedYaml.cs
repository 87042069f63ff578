using Farm.Simulation.Config;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Farm.Workloads.Input;

/// <summary>
/// Loads YAML into a node tree only after a streaming pass over the parser's events (which keeps
/// its own stack on the heap) has checked the text against <see cref="InputLimits"/>: YamlStream
/// builds the tree by recursion, one stack frame per level. Aliases count as the nodes of the
/// anchor they name, so a "billion laughs" text fails on the count, not on memory.
/// </summary>
public static class GuardedYaml
{
    /// <summary>Parses <paramref name="text"/>; a malformed or over-limit text is a <see cref="ConfigException"/> naming the source and line.</summary>
    public static YamlStream Load(string text, string source, InputLimits? limits = null)
    {
        limits ??= InputLimits.Default;
        limits.CheckText(text, source);
        try
        {
            Scan(text, source, limits);
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream;
        }
        catch (YamlException e)
        {
            throw new ConfigException($"{source}:{e.Start.Line}: malformed YAML: {e.InnerException?.Message ?? e.Message}");
        }
    }

    private static void Scan(string text, string source, InputLimits limits)
    {
        var parser = new Parser(new StringReader(text));
        var anchorSizes = new Dictionary<string, long>();
        var open = new Stack<(string? Anchor, long NodesBefore)>(); // open mappings and sequences
        long nodes = 0;
        int aliases = 0;
        while (parser.MoveNext())
        {
            var e = parser.Current!;
            switch (e)
            {
                case DocumentStart:
                    anchorSizes.Clear(); // anchors do not cross documents
                    break;
                case MappingStart or SequenceStart:
                    nodes++;
                    if (open.Count == limits.MaxDepth)
                        throw Over(source, e, $"mappings and sequences are nested more than {limits.MaxDepth} levels deep; the limit is {limits.MaxDepth}");
                    var anchor = ((NodeEvent)e).Anchor;
                    open.Push((anchor.IsEmpty ? null : anchor.Value, nodes - 1));
                    break;
                case MappingEnd or SequenceEnd:
                    var (name, before) = open.Pop();
                    if (name is not null) anchorSizes[name] = nodes - before;
                    break;
                case Scalar s:
                    nodes++;
                    if (!s.Anchor.IsEmpty) anchorSizes[s.Anchor.Value] = 1;
                    break;
                case AnchorAlias a:
                    if (++aliases > limits.MaxAliases)
                        throw Over(source, e, $"more than {InputLimits.N(limits.MaxAliases)} aliases; the limit is {InputLimits.N(limits.MaxAliases)}");
                    // An alias to an anchor still open (a cycle) or unknown is the loader's error to report.
                    nodes += anchorSizes.GetValueOrDefault(a.Value.Value, 1);
                    break;
            }
            if (nodes > limits.MaxNodes)
                throw Over(source, e, $"more than {InputLimits.N(limits.MaxNodes)} nodes (an alias counts as the nodes it stands for); the limit is {InputLimits.N(limits.MaxNodes)}");
        }
    }

    private static ConfigException Over(string source, ParsingEvent at, string what) =>
        new($"{source}:{at.Start.Line}: {what} (docs/limits.md)");
}
