using Farm.Cluster.Store;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>
/// Sixth-round review, an operator's bad day: a store file that cannot be written, in a directory
/// that can (chmod 444, or immutable). The store was refused (exit 6) but as "an I/O error reading
/// or writing the database (disk I/O error)", which names no cause: SQLite opens such a file
/// read-only without a word and fails later on its WAL. Now the message says the file cannot be
/// written, and the store is left as it was.
/// </summary>
public sealed class ReadOnlyStoreFileTests : IDisposable
{
    private readonly TempDir _dir = new();
    private string Db => Path.Combine(_dir.Path, "farm.db");

    public void Dispose()
    {
        Run("chattr", "-i", Db);
        _dir.Dispose();
    }

    private static int Run(string file, params string[] args)
    {
        try
        {
            using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit();
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1; // no such program
        }
    }

    /// <summary>Makes the file unwritable for this process: immutable as root (chmod does not stop root), mode 444 otherwise.</summary>
    private void MakeReadOnly()
    {
        if (Environment.UserName == "root")
            Assert.True(Run("chattr", "+i", Db) == 0, "chattr +i failed: this test needs a file system with the immutable attribute (ext4, xfs) when run as root");
        else
            Assert.True(Run("chmod", "444", Db) == 0, "chmod 444 failed");
    }

    [Fact]
    public void AStoreFileThatCannotBeWritten_IsRefusedSayingSo_AndKeepsWhatItHeld()
    {
        using (var store = new ResultStore(Db))
            store.Probe(); // a real store, closed again
        byte[] before = File.ReadAllBytes(Db);
        MakeReadOnly();

        var e = Assert.Throws<StoreUnavailableException>(() => new ResultStore(Db));
        Assert.Contains($"store {Db}: the database file cannot be written", e.Message);
        Assert.DoesNotContain("disk I/O error", e.Message);
        Assert.Equal(before, File.ReadAllBytes(Db));
    }
}
