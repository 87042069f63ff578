using System.Text;
using System.Text.RegularExpressions;

namespace Farm.Deploy.Tests;

/// <summary>A Dockerfile read into stages of instructions: enough of the syntax for the project's own file.</summary>
internal sealed record Dockerfile(IReadOnlyList<DockerStage> Stages)
{
    public static Dockerfile Load(string path)
    {
        var stages = new List<DockerStage>();
        var text = new StringBuilder();
        int start = 0, number = 0;
        foreach (string raw in File.ReadLines(path))
        {
            number++;
            string line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && text.Length == 0)) continue; // comments (and parser directives)
            if (text.Length == 0) start = number;
            bool continued = line.EndsWith('\\');
            text.Append(continued ? line[..^1] : line).Append(' ');
            if (continued) continue;
            string instruction = text.ToString().Trim();
            text.Clear();
            int space = instruction.IndexOf(' ');
            string keyword = (space < 0 ? instruction : instruction[..space]).ToUpperInvariant();
            string args = space < 0 ? "" : instruction[(space + 1)..].Trim();
            if (keyword == "FROM")
            {
                var m = Regex.Match(args, @"^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$", RegexOptions.IgnoreCase);
                if (!m.Success) throw new FormatException($"{path}:{start}: FROM {args}");
                stages.Add(new DockerStage(m.Groups[1].Value, m.Groups[2].Success ? m.Groups[2].Value : null, new List<DockerInstruction>()));
            }
            else if (stages.Count == 0) throw new FormatException($"{path}:{start}: {keyword} before the first FROM");
            else ((List<DockerInstruction>)stages[^1].Instructions).Add(new DockerInstruction(keyword, args, start));
        }
        return new Dockerfile(stages);
    }
}

internal sealed record DockerStage(string Image, string? Name, IReadOnlyList<DockerInstruction> Instructions)
{
    public IEnumerable<DockerInstruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);

    /// <summary>The last WORKDIR (where relative COPY destinations go).</summary>
    public string WorkDir => All("WORKDIR").LastOrDefault()?.Arguments ?? "/";
}

internal sealed record DockerInstruction(string Keyword, string Arguments, int Line)
{
    /// <summary>Whitespace-separated words; flags (--from=x) are kept as words.</summary>
    public IReadOnlyList<string> Words => Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public IEnumerable<string> Flags => Words.TakeWhile(w => w.StartsWith("--", StringComparison.Ordinal));

    /// <summary>COPY's sources and destination, after its flags.</summary>
    public (IReadOnlyList<string> Sources, string Destination) CopyPaths
    {
        get
        {
            var paths = Words.SkipWhile(w => w.StartsWith("--", StringComparison.Ordinal)).ToList();
            if (paths.Count < 2 || Arguments.Contains('[')) throw new FormatException($"line {Line}: COPY {Arguments}: expected shell form, sources and a destination");
            return (paths[..^1], paths[^1]);
        }
    }

    public string? Flag(string name) =>
        Flags.FirstOrDefault(f => f.StartsWith($"--{name}=", StringComparison.Ordinal))?[(name.Length + 3)..];

    public override string ToString() => $"line {Line}: {Keyword} {Arguments}";
}

/// <summary>
/// .dockerignore rules: patterns of the build context's relative paths, where ** spans folders, * and ?
/// stay inside one, a rule that matches a folder matches what it holds, and a later !rule wins.
/// </summary>
internal sealed class DockerIgnore(IReadOnlyList<(Regex Pattern, bool Exclude)> rules)
{
    public static DockerIgnore Load(string path) => new([.. File.ReadLines(path)
        .Select(l => l.Trim())
        .Where(l => l.Length > 0 && !l.StartsWith('#'))
        .Select(l => l.StartsWith('!') ? (Compile(l[1..]), false) : (Compile(l), true))]);

    public bool IsIgnored(string relativePath)
    {
        string path = relativePath.Replace('\\', '/').Trim('/');
        bool ignored = false;
        foreach (var (pattern, exclude) in rules)
            if (SelfAndParents(path).Any(pattern.IsMatch)) ignored = exclude;
        return ignored;
    }

    private static IEnumerable<string> SelfAndParents(string path)
    {
        for (string? p = path; !string.IsNullOrEmpty(p); p = Path.GetDirectoryName(p)?.Replace('\\', '/'))
            yield return p;
    }

    private static Regex Compile(string pattern)
    {
        string p = pattern.Trim().TrimStart('/').TrimEnd('/');
        var re = new StringBuilder("^");
        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] == '*' && i + 1 < p.Length && p[i + 1] == '*')
            {
                bool slash = i + 2 < p.Length && p[i + 2] == '/';
                re.Append(slash ? "(.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else if (p[i] == '*') re.Append("[^/]*");
            else if (p[i] == '?') re.Append("[^/]");
            else if (p[i] is '[' or '\\') throw new NotSupportedException($".dockerignore pattern '{pattern}': classes and escapes are not handled by this test");
            else re.Append(Regex.Escape(p[i].ToString()));
        }
        return new Regex(re.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
