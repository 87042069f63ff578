namespace Farm.Cluster.Hosting;

/// <summary>
/// Socket completions run on .NET's epoll thread instead of being handed to the thread pool
/// (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>). Every message a node receives over
/// Akka.Remote is a socket completion whose callback only hands the bytes to a DotNetty event loop;
/// through the pool that hand-off cost a thread wake-up (and the pool woke a second thread to look
/// for more events) before the event loop's own wake-up. Nothing blocks in those callbacks, and
/// Kestrel hands its requests to the pool itself, so nothing waits behind the epoll thread.
/// docs/cluster.md, "Coordinator CPU a trial (coord2 session, sixth round)".
/// </summary>
internal static class SocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Sets the variable for this process unless it is set already (an operator's value wins). .NET reads
    /// it once, when the first socket is registered, so this runs before the node opens any: a process
    /// that opened a socket earlier keeps the thread pool, which is only slower.
    /// </summary>
    public static void PreferInline()
    {
        if (Environment.GetEnvironmentVariable(Variable) is null) Environment.SetEnvironmentVariable(Variable, "1");
    }
}
