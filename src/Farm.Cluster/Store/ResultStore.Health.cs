using Microsoft.Data.Sqlite;

namespace Farm.Cluster.Store;

// Opening, checking and watching the store's file: docs/failure-behaviour.md.
public sealed partial class ResultStore
{
    // SQLite result codes that mean the store itself is not working (not one bad request):
    // BUSY, LOCKED, NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB.
    private static readonly HashSet<int> FaultCodes = [5, 6, 7, 8, 10, 11, 13, 14, 15, 26];

    /// <summary>Where SQLite's own descriptor of the database file points (Linux), to notice the file deleted or replaced.</summary>
    private (string Fd, string Target)? _file;

    /// <summary>
    /// Takes the database exclusively and checks it: writable, schema, integrity. Exclusive
    /// locking mode, set before WAL is entered, keeps WAL's index in this process's heap instead
    /// of a shared-memory file mapped into it (sqlite.org/wal.html, "Use of WAL Without Shared-Memory"):
    /// a mapped file on a file system that turns read-only or full kills the process with SIGBUS.
    /// It also means a second process (a second coordinator) cannot open the store at all.
    /// </summary>
    private void Open()
    {
        try
        {
            _connection.Open();
            Pragma("locking_mode = EXCLUSIVE");
            Pragma("busy_timeout = 5000");
            // WAL: one commit is one append. synchronous=NORMAL is safe against a process crash in
            // WAL mode; a power loss may drop the last commits, and those trials simply run again.
            string mode = PragmaValue("journal_mode = WAL");
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                throw new StoreUnavailableException($"store {Path}: cannot use write-ahead logging (journal mode stays '{mode}'); is the directory writable?");
            Pragma("synchronous = NORMAL");
            Pragma("foreign_keys = ON");
            Pragma("mmap_size = 0"); // no mapped database file either
            // 32 MiB of page cache (SQLite's default is 2 MiB): a sweep's status reads every row of its
            // trials, results inline, and with the default cache each poll read them again from the file.
            Pragma("cache_size = -32768");
            StoreSchema.Ensure(_connection);
            // A write now: proves the file is writable and takes the exclusive lock for as long as the store is open.
            using (var tx = _connection.BeginTransaction(deferred: false))
            {
                using var touch = _connection.CreateCommand();
                touch.Transaction = tx;
                touch.CommandText = "UPDATE schema_version SET version = version";
                touch.ExecuteNonQuery();
                tx.Commit();
            }
            string check = PragmaValue("quick_check(5)");
            if (check != "ok") throw new StoreUnavailableException($"store {Path}: the integrity check failed: {check}; restore it from a copy");
        }
        catch (SqliteException e)
        {
            throw Fault(e);
        }
        _file = FindOwnDescriptor();
    }

    /// <summary>Room a probe asks for: more than a large trial result, so that resuming does not fail again at once.</summary>
    public const int ProbeBytes = 1 << 20;

    /// <summary>
    /// After a write failed for a reason that may pass (disk full, read-only file system): returns
    /// if the store takes a write of <see cref="ProbeBytes"/> again (written and freed in one
    /// transaction), else a <see cref="StoreUnavailableException"/> says what is still wrong.
    /// </summary>
    public void Probe() => Write(() =>
    {
        Execute("CREATE TABLE IF NOT EXISTS store_probe (room BLOB)"); // scratch, always empty between probes
        Execute("INSERT INTO store_probe (room) VALUES (zeroblob($n))", ("$n", ProbeBytes));
        return Execute("DELETE FROM store_probe");
    });

    /// <summary>Copies the open database, whatever happened to its file, to <paramref name="destination"/> (SQLite's backup API).</summary>
    public void SaveCopy(string destination)
    {
        using var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = destination, Pooling = false }.ToString());
        target.Open();
        lock (_gate) _connection.BackupDatabase(target); // not in the middle of another thread's transaction: the copy would take its uncommitted pages
    }

    /// <summary>Test hook: SQLite's page limit, to make the store "full" (SQLITE_FULL) without filling a disk.</summary>
    internal void LimitPages(long pages) => Pragma($"max_page_count = {pages}");

    /// <summary>
    /// Refuses to write to a database file that is no longer at its path (deleted, renamed, or
    /// replaced by another file): those writes would be lost when the process ends.
    /// </summary>
    private void CheckFileIdentity()
    {
        bool same = _file is { } f ? LinkTarget(f.Fd) == f.Target : File.Exists(Path);
        if (!same)
            throw new StoreUnavailableException(
                $"store {Path}: the database file was deleted, moved or replaced while the coordinator had it open; nothing more is written to it", recoverable: false);
    }

    private (string, string)? FindOwnDescriptor()
    {
        const string fds = "/proc/self/fd";
        if (!Directory.Exists(fds)) return null; // not Linux: CheckFileIdentity falls back to the path existing
        var found = new List<(string, string)>();
        foreach (string fd in Directory.EnumerateFileSystemEntries(fds))
            if (LinkTarget(fd) is { } target && System.IO.Path.GetFileName(target) == System.IO.Path.GetFileName(Path)) found.Add((fd, target));
        // The target is the real path (symlinks resolved), so the full path is compared first.
        return found.FirstOrDefault(x => x.Item2 == Path) is { Item1: not null } exact ? exact : found.Count == 1 ? found[0] : null;
    }

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static bool IsFault(SqliteException e) => FaultCodes.Contains(e.SqliteErrorCode);

    private StoreUnavailableException Fault(SqliteException e) => new($"store {Path}: {e.SqliteErrorCode switch
    {
        5 or 6 => "the database is locked by another process (is another farm coordinator using this store?); a store serves one coordinator at a time",
        8 => "the database is read-only (file permissions or a read-only file system)",
        10 => "an I/O error reading or writing the database",
        11 or 26 => "the database is damaged or is not a farm store; restore it from a copy",
        13 => "the disk is full (or the database reached its size limit)",
        14 => "the database file cannot be opened (does its directory exist and is it writable?)",
        _ => "SQLite failed",
    }} ({e.Message})", e, recoverable: e.SqliteErrorCode is 8 or 10 or 13);

    private string PragmaValue(string pragma)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "PRAGMA " + pragma;
        return Convert.ToString(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) ?? "";
    }
}
