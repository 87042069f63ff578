using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Farm.Cluster.Store;

/// <summary>
/// The coordinator's durable store (SQLite, WAL): sweeps, trials with their status and full
/// results, and which trials make up each sweep. Every method is one transaction: it happens
/// entirely or, on any exception, not at all. One owner (the coordinator actor) calls it; its
/// transactions serialize (a lock), so a reader beside that owner (a test, a diagnostic) waits for
/// the owner's transaction instead of running statements on the one connection in the middle of
/// it. Schema and semantics: docs/sweeps.md. The store is held exclusively by its process and
/// checked when opened; faults: docs/failure-behaviour.md.
/// </summary>
public sealed partial class ResultStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly TimeProvider _clock;
    /// <summary>A transaction of this store is open (the store is not reentrant).</summary>
    private bool _inTransaction;
    /// <summary>Held for the length of a transaction: one at a time on the one connection.</summary>
    private readonly Lock _gate = new();
    private readonly StoreWorkloads _workloads = new();
    /// <summary>
    /// Statements by SQL text, each prepared once: SQLite parses and plans a per-trial statement
    /// once, not twice or more per trial (the texts are the store's own constants, so this stays small).
    /// </summary>
    private readonly Dictionary<string, SqliteCommand> _statements = new(StringComparer.Ordinal);
    private const int MaxStatements = 64;

    /// <summary>Workload texts parsed to build tickets (a submitted sweep's files need none).</summary>
    internal int WorkloadParses => _workloads.Parses;

    /// <summary>Test hook: runs just before a write transaction commits; throwing from it must leave the store unchanged.</summary>
    internal Action? BeforeCommit { get; set; }

    /// <summary>
    /// Opens or creates the database at <paramref name="path"/> (its directory is created too), takes
    /// it exclusively and checks it (<see cref="Open"/>): a <see cref="StoreUnavailableException"/>
    /// says why it cannot be used.
    /// </summary>
    public ResultStore(string path, TimeProvider? clock = null)
    {
        Path = System.IO.Path.GetFullPath(path);
        _clock = clock ?? TimeProvider.System;
        try
        {
            string directory = System.IO.Path.GetDirectoryName(Path)!;
            Directory.CreateDirectory(directory);
            // SQLite opens a read-only file read-only without a word, and then fails on its WAL
            // with a bare "disk I/O error": say plainly that the directory cannot be written.
            string probe = System.IO.Path.Combine(directory, $".farm-write-probe-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreUnavailableException($"store {Path}: cannot write in its directory ({e.Message}); a store needs a writable directory, not a read-only file system", e);
        }
        // The same for a read-only database file in a writable directory (chmod 444, immutable):
        // SQLite opens it read-only and fails on its WAL with "disk I/O error", naming no cause.
        if (File.Exists(Path))
        {
            try
            {
                using (File.Open(Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite)) { }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StoreUnavailableException($"store {Path}: the database file cannot be written ({e.Message}); make it writable for this user, or serve a copy", e);
            }
        }
        // No pooling: Dispose really closes the file (and releases the lock), so a restarted coordinator (or a test) can reopen it.
        // A busy statement is retried for DefaultTimeout seconds (Microsoft.Data.Sqlite's default 30), each try
        // waiting SQLite's busy_timeout (5 s): only a second process holding the store makes one busy (this
        // connection takes it exclusively), and that one is refused after one wait, not six.
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 5,
        }.ToString());
        try
        {
            Open();
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    public string Path { get; }

    public void Dispose()
    {
        ForgetStatements();
        _connection.Dispose();
    }

    private void Pragma(string pragma)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "PRAGMA " + pragma;
        cmd.ExecuteNonQuery();
    }

    private T Write<T>(Func<T> work) => InTransaction(work, write: true);

    private T Read<T>(Func<T> work) => InTransaction(work, write: false);

    /// <summary>
    /// One transaction, begun and committed by the store's own prepared statements: Microsoft.Data.Sqlite's
    /// <c>BeginTransaction</c> and <c>Commit</c> prepare <c>PRAGMA read_uncommitted</c>, <c>BEGIN</c> and
    /// <c>COMMIT</c> anew for every transaction, three parses and three commands a transaction, two
    /// transactions a trial (docs/cluster.md, "Coordinator CPU a trial"). The SQL is what it runs:
    /// <c>BEGIN IMMEDIATE</c> for a write (the write lock is taken at once), <c>BEGIN</c> (deferred) for a read.
    /// </summary>
    private T InTransaction<T>(Func<T> work, bool write)
    {
        lock (_gate) return InTransactionHeld(work, write); // the lock is reentrant: a nested call still finds _inTransaction set
    }

    private T InTransactionHeld<T>(Func<T> work, bool write)
    {
        if (_inTransaction) throw new InvalidOperationException("the result store is not reentrant");
        if (write) CheckFileIdentity();
        try
        {
            Command(write ? "BEGIN IMMEDIATE" : "BEGIN").ExecuteNonQuery();
            _inTransaction = true;
            try
            {
                var result = work();
                if (write) BeforeCommit?.Invoke();
                Command("COMMIT").ExecuteNonQuery();
                return result;
            }
            catch
            {
                TryRollback();
                ForgetStatements(); // rare: prepared anew rather than reused in whatever state the failure left them
                // A statement still stepping can keep ROLLBACK from ending the transaction; finalized, it cannot.
                if (SQLitePCL.raw.sqlite3_get_autocommit(_connection.Handle) == 0) TryRollback();
                throw;
            }
            finally
            {
                _inTransaction = false;
            }
        }
        catch (SqliteException e) when (IsFault(e))
        {
            throw Fault(e);
        }
    }

    // After an I/O error SQLite may already have rolled the transaction back; the fault that
    // caused it is what the caller must see, not a second one from the rollback. Its own command:
    // the prepared ones may be mid-step (a reader) when the failure came.
    private void TryRollback()
    {
        try
        {
            using var rollback = _connection.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }
        catch (Exception e) when (e is SqliteException or InvalidOperationException)
        {
        }
    }

    /// <summary>The statement for <paramref name="sql"/>, prepared on its first use and reused after (not to be disposed by the caller).</summary>
    private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        if (!_statements.TryGetValue(sql, out var cmd))
        {
            if (_statements.Count >= MaxStatements) ForgetStatements();
            cmd = _connection.CreateCommand();
            cmd.CommandText = sql;
            _statements[sql] = cmd;
        }
        cmd.Parameters.Clear();
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    private void ForgetStatements()
    {
        foreach (var cmd in _statements.Values) cmd.Dispose();
        _statements.Clear();
    }

    private int Execute(string sql, params (string, object?)[] parameters)
    {
        var cmd = Command(sql, parameters);
        return cmd.ExecuteNonQuery();
    }

    private object? Scalar(string sql, params (string, object?)[] parameters)
    {
        var cmd = Command(sql, parameters);
        var value = cmd.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    private string Now() => _clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset Time(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
