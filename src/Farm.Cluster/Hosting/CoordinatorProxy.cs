namespace Farm.Cluster.Hosting;

/// <summary>
/// The actor registry's key for the coordinator: the singleton's proxy on every node (Akka.Hosting's
/// <c>WithSingleton</c> with its proxy on coordinator nodes, <c>WithSingletonProxy</c> elsewhere).
/// </summary>
public sealed class CoordinatorProxy
{
    /// <summary>The singleton manager's actor name; the proxy is "coordinator-proxy".</summary>
    public const string Name = "coordinator";
    public const string Role = "coordinator";
}
