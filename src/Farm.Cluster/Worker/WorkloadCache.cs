using System.Collections.Concurrent;
using Farm.Workloads;

namespace Farm.Cluster.Worker;

/// <summary>
/// A worker's parsed workload files, by text: a sweep's trials share a handful of workload files,
/// so each is parsed once per worker, not once per trial. A parsed file is read-only (its keys,
/// routines and kind), so trials running at once share it. Bounded: past
/// <see cref="MaxEntries"/> distinct texts the cache starts again.
/// </summary>
public sealed class WorkloadCache
{
    public const int MaxEntries = 64;

    private readonly ConcurrentDictionary<string, WorkloadFile> _files = new(StringComparer.Ordinal);

    /// <summary>Parses taken so far (for tests: a sweep's trials of one workload parse it once).</summary>
    public int Parses => _parses;
    private int _parses;

    public WorkloadFile Get(string text, string source)
    {
        if (_files.TryGetValue(text, out var file)) return file;
        Interlocked.Increment(ref _parses);
        file = WorkloadFile.Parse(text, source); // a parse error is the ticket's, not cached
        if (_files.Count >= MaxEntries) _files.Clear();
        return _files.GetOrAdd(text, file);
    }
}
