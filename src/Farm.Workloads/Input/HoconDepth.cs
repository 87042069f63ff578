using Farm.Simulation.Config;

namespace Farm.Workloads.Input;

/// <summary>
/// Bounds the nesting of HOCON text (farm serve --config) before Akka's parser, which recurses
/// per level, sees it. A HOCON object nests by braces and by dotted paths (<c>a.b.c = 1</c> is
/// three levels), so the depth counted is the open <c>{</c>/<c>[</c> plus the dots on the line
/// outside quotes and comments: an over-count (a value such as <c>0.5</c> adds one), never an
/// under-count. The configs in cluster-config/ reach 2; the limit is <see cref="InputLimits.MaxDepth"/>.
/// </summary>
public static class HoconDepth
{
    public static void Check(string text, string source, InputLimits? limits = null)
    {
        limits ??= InputLimits.Default;
        limits.CheckText(text, source);
        int depth = 0, dots = 0, line = 1;
        bool quoted = false, comment = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\n') { line++; dots = 0; comment = false; quoted = false; continue; }
            if (comment) continue;
            if (quoted)
            {
                if (c == '\\') i++;
                else if (c == '"') quoted = false;
                continue;
            }
            switch (c)
            {
                case '"': quoted = true; break;
                case '#': comment = true; break;
                case '/' when i + 1 < text.Length && text[i + 1] == '/': comment = true; break;
                case '{' or '[': depth++; break;
                case '}' or ']': depth = Math.Max(0, depth - 1); break;
                case '.': dots++; break;
            }
            if (depth + dots > limits.MaxDepth)
                throw new ConfigException($"{source}:{line}: objects are nested more than {limits.MaxDepth} levels deep (braces and dotted paths); the limit is {limits.MaxDepth} (docs/limits.md)");
        }
    }
}
