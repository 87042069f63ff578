using System.Runtime.InteropServices;
using Farm.Tests.Shared;

namespace Farm.Cluster.Tests.Farm;

/// <summary>
/// A small file system of its own for a store, to fill it or make it fail under a running
/// coordinator honestly: chmod does not stop root, and Linux refuses to remount read-only a
/// file system with a file open for writing, so a real fault needs a real file system. These
/// tests mount, so they need root (the CI container runs as root).
/// </summary>
internal abstract class Mount : IDisposable
{
    protected Mount(string kind)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"farm-{kind}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    protected static void Run(string file, params string[] args)
    {
        var r = Proc.Run(file, args, timeout: TimeSpan.FromMinutes(1));
        if (r.Code != 0)
            throw new InvalidOperationException($"'{file} {string.Join(' ', args)}' failed ({r.Err.Trim()}); the store fault tests mount a file system and need root");
    }

    public void Remount(string flags) => Run("mount", "-o", $"remount,{flags}", Path);

    public virtual void Dispose()
    {
        Proc.Run("umount", ["-l", Path]);
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A tmpfs of a fixed size: fill it to make the disk full.</summary>
internal sealed class Tmpfs : Mount
{
    public Tmpfs(string size) : base("tmpfs") => Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", Path);

    /// <summary>Writes a file until the file system has no byte left; returns it (delete it to make room).</summary>
    public string Fill()
    {
        string filler = System.IO.Path.Combine(Path, "filler");
        using var f = new FileStream(filler, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough);
        foreach (int chunk in new[] { 1 << 20, 4096, 1 })
        {
            var bytes = new byte[chunk];
            try
            {
                while (true) f.Write(bytes);
            }
            catch (IOException)
            {
            }
        }
        return filler;
    }
}

/// <summary>
/// An ext4 file system on a loop device. <see cref="Shutdown"/> makes it fail every write with an
/// I/O error from then on (the EXT4_IOC_SHUTDOWN ioctl, as xfstests' "godown"): what a store sees
/// when its disk errors and the kernel turns the file system read-only under it.
/// </summary>
internal sealed class Ext4 : Mount
{
    private const ulong Ext4IocShutdown = 0x8004587D; // _IOR('X', 125, __u32)
    private readonly string _image;

    public Ext4(int megabytes) : base("ext4")
    {
        _image = Path + ".img";
        using (var f = File.Create(_image)) f.SetLength((long)megabytes << 20);
        Run("mkfs.ext4", "-q", "-F", _image);
        Mount();
    }

    public void Mount() => Run("mount", "-o", "loop", _image, Path);

    public void Unmount() => Run("umount", Path);

    public void Shutdown()
    {
        using var handle = File.OpenHandle(System.IO.Path.Combine(Path, "shutdown-handle"), FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite);
        uint flags = 0; // EXT4_GOING_FLAGS_DEFAULT: flush, then refuse every write
        if (Ioctl((int)handle.DangerousGetHandle(), Ext4IocShutdown, ref flags) != 0)
            throw new InvalidOperationException($"EXT4_IOC_SHUTDOWN failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public override void Dispose()
    {
        base.Dispose();
        File.Delete(_image);
    }

    [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static extern int Ioctl(int fd, ulong request, ref uint arg);
}
