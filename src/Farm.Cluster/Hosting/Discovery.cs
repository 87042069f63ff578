namespace Farm.Cluster.Hosting;

/// <summary>How a node finds the cluster it joins.</summary>
public enum Discovery
{
    /// <summary>Static seed nodes (or none: the node starts a cluster of its own).</summary>
    None,
    /// <summary>Akka.Management cluster bootstrap; contact points listed in configuration (local multi-process runs).</summary>
    Config,
    /// <summary>Akka.Management cluster bootstrap; contact points are the pods the Kubernetes API lists.</summary>
    Kubernetes,
}
