using Akka.Configuration;

namespace Farm.Cluster.Hosting;

/// <summary>
/// HOCON for cluster bootstrap: with discovery on, nodes find each other's management endpoints
/// (<see cref="ManagementRoutes"/>) and the lowest address forms the cluster once
/// <see cref="NodeOptions.RequiredContactPoints"/> are found and stable; later nodes join it.
/// </summary>
public static class BootstrapConfig
{
    /// <summary>The container port name that Kubernetes discovery resolves to the management port.</summary>
    public const string ManagementPortName = "management";

    public static Config For(NodeOptions o)
    {
        if (o.ManagementPort is not { } port) return Config.Empty;
        string discovery = o.Discovery switch
        {
            Discovery.Config => ConfigDiscovery(o),
            Discovery.Kubernetes => KubernetesDiscovery(),
            _ => "",
        };
        // Bootstrap's own settings are typed options (NodeAkka); these are what it reads beside them.
        return ConfigurationFactory.ParseString($$"""
            akka.management.http {
              hostname = "{{o.Hostname}}"
              port = {{port}}
            }
            {{discovery}}
            """);
    }

    private static string ConfigDiscovery(NodeOptions o)
    {
        string endpoints = string.Join(", ", o.ContactPoints.Select(c => $"\"{c}\""));
        return $$"""
            akka.discovery {
              method = config
              config.services.{{o.ServiceName}}.endpoints = [{{endpoints}}]
            }
            """;
    }

    // Pods are selected by the recommended name label, so that one selector covers every role.
    private static string KubernetesDiscovery() =>
        "akka.discovery.method = kubernetes-api\n" + KubernetesPodDiscovery.DefaultConfig("app.kubernetes.io/name={0}");
}
