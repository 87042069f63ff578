using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace Farm.Simulation.Tests;

/// <summary>One row of docs/conformance.md's table (cells as written, <c>Line</c> 1-based).</summary>
internal sealed record ConformanceRow(int Line, string Number, string Functions, string Kernel31, string Kernel33, string Model, string Tests);

/// <summary>
/// Reads docs/conformance.md's table and checks it against the code: each check returns the
/// problems it found (empty when the table is right), so a failure lists all of them at once.
/// </summary>
internal static partial class ConformanceTable
{
    public static readonly string[] Columns = ["#", "KVM function / rule", "3.1.10", "3.3.8", "Model", "Pinned by", "Difference"];

    private static readonly HashSet<string> KernelFiles = ["mmu.c", "mmu.h", "paging_tmpl.h", "x86.c", "emulate.c", "kvm_main.c", "kvm_host.h"];

    public static List<ConformanceRow> Parse(string markdown)
    {
        var lines = markdown.Split('\n');
        int header = Array.FindIndex(lines, l => Cells(l) is { } c && c.SequenceEqual(Columns));
        if (header < 0)
            throw new InvalidDataException($"no table with the columns | {string.Join(" | ", Columns)} |");
        var rows = new List<ConformanceRow>();
        for (int i = header + 2; i < lines.Length && Cells(lines[i]) is { } c; i++)
        {
            if (c.Length != Columns.Length)
                throw new InvalidDataException($"line {i + 1}: {c.Length} cells, the table has {Columns.Length} columns");
            rows.Add(new ConformanceRow(i + 1, c[0], c[1], c[2], c[3], c[4], c[5]));
        }
        return rows;
    }

    private static string[]? Cells(string line)
    {
        var t = line.Trim();
        if (t.Length < 2 || t[0] != '|' || t[^1] != '|') return null;
        return t[1..^1].Split('|').Select(cell => cell.Trim()).ToArray();
    }

    /// <summary>The `code` spans of a cell, in order.</summary>
    public static List<string> Code(string cell) => [.. CodeSpan().Matches(cell).Select(m => m.Groups[1].Value)];

    /// <summary>Every [Fact]/[Theory] method of <paramref name="assembly"/>, keyed "Class.Method".</summary>
    public static ILookup<string, MethodInfo> TestMethods(Assembly assembly) =>
        assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttributes<FactAttribute>(inherit: true).Any())
            .ToLookup(m => $"{m.DeclaringType!.Name}.{m.Name}");

    /// <summary>Each named test exists exactly once; a row without one says "none".</summary>
    public static IEnumerable<string> CheckTests(IEnumerable<ConformanceRow> rows, ILookup<string, MethodInfo> tests)
    {
        foreach (var row in rows)
        {
            var names = Code(row.Tests);
            if (names.Count == 0 && !row.Tests.Contains("none", StringComparison.OrdinalIgnoreCase))
                yield return $"line {row.Line}: 'Pinned by' names no test and does not say \"none yet\"";
            foreach (var name in names)
            {
                int found = tests[name].Count();
                if (found == 0) yield return $"line {row.Line}: test {name} does not exist (expected Class.Method of a [Fact] or [Theory])";
                else if (found > 1) yield return $"line {row.Line}: test {name} is ambiguous ({found} methods)";
            }
        }
    }

    /// <summary>
    /// Each model file exists under <paramref name="sourceRoot"/>; each Type.Member after it is a
    /// member of a type in <paramref name="model"/> and is named in that file's code (not only in
    /// a comment). A row without any says "not modelled".
    /// </summary>
    public static IEnumerable<string> CheckModel(IEnumerable<ConformanceRow> rows, string sourceRoot, Assembly model)
    {
        var types = model.GetTypes().ToLookup(t => t.Name);
        foreach (var row in rows)
        {
            var spans = Code(row.Model);
            if (spans.Count == 0 && !row.Model.Contains("not modelled", StringComparison.OrdinalIgnoreCase))
                yield return $"line {row.Line}: 'Model' names no file and does not say \"not modelled\"";
            string? file = null, code = null;
            foreach (var span in spans)
            {
                if (span.EndsWith(".cs", StringComparison.Ordinal))
                {
                    file = span;
                    var path = Path.Combine(sourceRoot, span);
                    code = File.Exists(path) ? StripComments(File.ReadAllText(path)) : null;
                    if (code is null) yield return $"line {row.Line}: model file {span} does not exist under {sourceRoot}";
                    continue;
                }
                int dot = span.LastIndexOf('.');
                if (file is null || dot <= 0)
                {
                    yield return $"line {row.Line}: '{span}' should be Type.Member after the file that holds it";
                    continue;
                }
                if (code is null) continue; // the missing file is reported already
                string typeName = span[..dot], member = span[(dot + 1)..];
                bool declared = types[typeName].Any(t => t.GetMember(member, MemberTypes.All,
                    BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static).Length > 0);
                if (!declared)
                    yield return $"line {row.Line}: {span}: no member {member} on a type {typeName} in {model.GetName().Name}";
                else if (!Regex.IsMatch(code, $@"\b{Regex.Escape(member)}\b"))
                    yield return $"line {row.Line}: {span} is not in {file}";
            }
        }
    }

    /// <summary>Each function in <paramref name="required"/> is a `code` span of some row's function cell.</summary>
    public static IEnumerable<string> CheckRequired(IEnumerable<ConformanceRow> rows, IEnumerable<string> required)
    {
        var named = rows.SelectMany(r => Code(r.Functions)).ToHashSet(StringComparer.Ordinal);
        foreach (var function in required)
            if (!named.Contains(function))
                yield return $"no row for {function}";
    }

    /// <summary>Kernel cells are "—" or file:line lists such as "mmu.c:703-732, 3547; x86.c:10-20".</summary>
    public static IEnumerable<string> CheckKernelCells(IEnumerable<ConformanceRow> rows)
    {
        foreach (var row in rows)
            foreach (var (tree, cell) in new[] { ("3.1.10", row.Kernel31), ("3.3.8", row.Kernel33) })
            {
                if (cell == "—") continue;
                var parts = cell.Replace('(', ';').Replace(")", "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                foreach (var part in parts)
                {
                    var m = KernelPart().Match(part);
                    if (!m.Success || !KernelFiles.Contains(m.Groups["file"].Value))
                    {
                        yield return $"line {row.Line}: {tree} cell: '{part}' is not file:first-last (files: {string.Join(", ", KernelFiles)})";
                        continue;
                    }
                    foreach (Match r in LineRange().Matches(m.Groups["ranges"].Value))
                        if (r.Groups[2].Success && int.Parse(r.Groups[2].Value) < int.Parse(r.Groups[1].Value))
                            yield return $"line {row.Line}: {tree} cell: range {r.Value} runs backwards";
                }
            }
    }

    private static string StripComments(string source) => Comment().Replace(source, "");

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"^(?<file>[a-z_0-9]+\.[ch]):(?<ranges>\d+(-\d+)?(,\s*\d+(-\d+)?)*)$")]
    private static partial Regex KernelPart();

    [GeneratedRegex(@"(\d+)(?:-(\d+))?")]
    private static partial Regex LineRange();

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comment();
}
