using System.Runtime.CompilerServices;
using Xunit.Sdk;

namespace Farm.Cluster.Tests.Farm;

/// <summary>
/// Where a process test's `farm serve` nodes write what they print: one directory per test
/// (<c>farm-nodes-TEST-…</c> under the temp directory), a <c>N-ROLES.stdout.log</c> and
/// <c>N-ROLES.stderr.log</c> per node, written line by line as the node prints them, so that a
/// test that hangs can be diagnosed from the files while it hangs. A test runs its body through
/// <see cref="Run"/>: when the body fails or times out, the failure's message names the files and
/// ends with the last lines of each, and the directory is kept; when it passes, it is deleted.
/// </summary>
internal sealed class NodeLogs
{
    /// <summary>How many of a file's last lines a failure message quotes.</summary>
    public const int TailLines = 40;

    private static readonly AsyncLocal<NodeLogs?> Scope = new();
    private readonly List<ServeProcess> _nodes = [];
    private readonly Lock _lock = new();

    private NodeLogs(string test)
    {
        Directory = Path.Combine(Path.GetTempPath(), $"farm-nodes-{test}-{Guid.NewGuid():N}"[..Math.Min(200, 36 + test.Length)]);
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The test's log directory.</summary>
    public string Directory { get; }

    /// <summary>A directory for a node started outside <see cref="Run"/>: kept, as nothing says whether its test passed.</summary>
    public static NodeLogs Unscoped() => new("unscoped");

    /// <summary>The logs of the test running on this async flow, or null outside <see cref="Run"/>.</summary>
    public static NodeLogs? Current => Scope.Value;

    /// <summary>
    /// Runs a process test's body. Every <see cref="ServeProcess"/> it starts writes its output under
    /// the test's directory; a failure (an assertion, a timeout, a node that did not start) is
    /// rethrown with the node logs appended to its message.
    /// </summary>
    public static async Task Run(Func<Task> body, [CallerMemberName] string test = "")
    {
        var logs = new NodeLogs(test.Length > 60 ? test[..60] : test);
        Scope.Value = logs;
        try
        {
            await body();
        }
        catch (Exception e)
        {
            throw new XunitException($"{e.GetType().Name}: {e.Message}\n\n{logs.Describe()}", e);
        }
        try
        {
            System.IO.Directory.Delete(logs.Directory, recursive: true); // passed: nothing to keep
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The two file paths of the next node, named by its place and roles.</summary>
    internal (string Stdout, string Stderr) Register(ServeProcess node, string roles)
    {
        lock (_lock)
        {
            _nodes.Add(node);
            string stem = Path.Combine(Directory, $"{_nodes.Count}-{roles.Replace(',', '+')}");
            return (stem + ".stdout.log", stem + ".stderr.log");
        }
    }

    /// <summary>Every node's files, named, with their last <see cref="TailLines"/> lines.</summary>
    public string Describe()
    {
        List<ServeProcess> nodes;
        lock (_lock) nodes = [.. _nodes];
        if (nodes.Count == 0) return $"no farm serve node was started (logs directory {Directory})";
        var text = new System.Text.StringBuilder($"node logs, kept in {Directory}:");
        foreach (var n in nodes) text.Append('\n').Append(n.Describe());
        return text.ToString();
    }

    /// <summary>The last <paramref name="count"/> lines of a file, read while it may still be written.</summary>
    internal static IReadOnlyList<string> Tail(string path, int count = TailLines)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var last = new Queue<string>();
            while (reader.ReadLine() is { } line)
            {
                if (last.Count == count) last.Dequeue();
                last.Enqueue(line);
            }
            return [.. last];
        }
        catch (IOException e)
        {
            return [$"(cannot read {path}: {e.Message})"];
        }
    }
}
