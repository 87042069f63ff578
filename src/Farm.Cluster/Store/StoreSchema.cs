using Microsoft.Data.Sqlite;

namespace Farm.Cluster.Store;

/// <summary>
/// The store's tables (docs/sweeps.md, "Store"). <see cref="Version"/> is recorded in
/// schema_version; a database written by a newer build is refused rather than misread.
/// </summary>
internal static class StoreSchema
{
    public const int Version = 1;

    private const string V1 = """
        CREATE TABLE schema_version (version INTEGER NOT NULL);

        -- Workload file texts by content hash: tickets are rebuilt from them, stored once.
        CREATE TABLE workloads (
            hash TEXT PRIMARY KEY,
            text TEXT NOT NULL
        );

        CREATE TABLE sweeps (
            id        TEXT PRIMARY KEY,
            seq       INTEGER NOT NULL UNIQUE,          -- submission order
            name      TEXT NOT NULL,
            spec      TEXT NOT NULL,                    -- as first submitted
            canonical TEXT NOT NULL,                    -- what the id hashes
            baseline  TEXT NOT NULL,
            positions INTEGER NOT NULL,
            cancelled INTEGER NOT NULL DEFAULT 0,
            created   TEXT NOT NULL
        );

        CREATE TABLE trials (
            id              TEXT PRIMARY KEY,
            config_id       TEXT NOT NULL,              -- trial.id inside the result JSON
            workload        TEXT NOT NULL,
            workload_hash   TEXT NOT NULL REFERENCES workloads(hash),
            workload_source TEXT NOT NULL,              -- path as written; the default workload name derives from it
            overrides       TEXT NOT NULL,              -- [[key, value], ...] in the order they apply
            config          TEXT NOT NULL,              -- the resolved configuration, {key: value}
            seed            INTEGER NOT NULL,
            status          TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
            queue_order     INTEGER NOT NULL,           -- FIFO position, fixed when first queued
            attempts        INTEGER NOT NULL DEFAULT 0,
            result          TEXT,
            error           TEXT,
            worker          TEXT,
            updated         TEXT NOT NULL
        );
        CREATE INDEX trials_queue ON trials (status, queue_order);
        CREATE INDEX trials_worker ON trials (worker, status);

        -- Sweep positions; a trial shared by sweeps (or positions) is stored once in trials.
        CREATE TABLE sweep_trials (
            sweep_id TEXT NOT NULL REFERENCES sweeps(id),
            position INTEGER NOT NULL,
            trial_id TEXT NOT NULL REFERENCES trials(id),
            labels   TEXT NOT NULL,                     -- [[key, value], ...]: workload, variant, axes, seed
            PRIMARY KEY (sweep_id, position)
        );
        CREATE INDEX sweep_trials_trial ON sweep_trials (trial_id);
        """;

    public static void Ensure(SqliteConnection connection)
    {
        using var tx = connection.BeginTransaction();
        using var probe = connection.CreateCommand();
        probe.Transaction = tx;
        probe.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";
        if ((long)probe.ExecuteScalar()! == 0)
        {
            Run(connection, tx, V1);
            Run(connection, tx, $"INSERT INTO schema_version (version) VALUES ({Version})");
        }
        else
        {
            probe.CommandText = "SELECT max(version) FROM schema_version";
            long found = probe.ExecuteScalar() is long v ? v : 0;
            if (found != Version)
                throw new StoreException($"{connection.DataSource}: schema version {found}; this build reads version {Version}" +
                    (found > Version ? " (the database was written by a newer Farm)" : ""));
        }
        tx.Commit();
    }

    private static void Run(SqliteConnection connection, SqliteTransaction tx, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
