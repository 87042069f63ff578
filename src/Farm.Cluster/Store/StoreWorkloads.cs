using Farm.Workloads;

namespace Farm.Cluster.Store;

/// <summary>
/// The store's workload files, parsed, by content hash: a queued trial's ticket takes its
/// workload's kind and routines from here. A submitted sweep hands over the files it parsed, so
/// a coordinator parses nothing at dispatch; after a restart each stored text is parsed once, on
/// the first ticket that needs it. Bounded: past <see cref="MaxEntries"/> files it starts again.
/// </summary>
internal sealed class StoreWorkloads
{
    public const int MaxEntries = 64;

    private readonly Dictionary<string, WorkloadFile> _files = new(StringComparer.Ordinal);

    /// <summary>Texts parsed here so far (for tests: dispatch after a restart parses each workload once).</summary>
    public int Parses { get; private set; }

    public void Add(string hash, WorkloadFile file)
    {
        if (_files.Count >= MaxEntries && !_files.ContainsKey(hash)) _files.Clear();
        _files[hash] = file;
    }

    /// <summary>The file of <paramref name="hash"/>, parsed from <paramref name="text"/>() if this store has not seen it.</summary>
    public WorkloadFile Get(string hash, string source, Func<string> text)
    {
        if (_files.TryGetValue(hash, out var file)) return file;
        Parses++;
        file = WorkloadFile.Parse(text(), source); // the text was parsed when its sweep was submitted: it parses again
        Add(hash, file);
        return file;
    }
}
