using Akka.Configuration;

namespace Farm.Cluster.Hosting;

/// <summary>
/// HOCON for cluster bootstrap: with discovery on, nodes find each other's management endpoints
/// (<see cref="ManagementServer"/>) and the lowest address forms the cluster once
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
        return ConfigurationFactory.ParseString($$"""
            akka.management {
              http.hostname = "{{o.Hostname}}"
              http.port = {{port}}
              cluster.bootstrap {
                contact-point-discovery {
                  service-name = "{{o.ServiceName}}"
                  required-contact-point-nr = {{o.RequiredContactPoints}}
                  port-name = "{{(o.Discovery == Discovery.Kubernetes ? ManagementPortName : "")}}"
                }
                # Local contact points share one host and differ by port: keep them all.
                contact-point.filter-on-fallback-port = {{(o.Discovery == Discovery.Config ? "false" : "true")}}
              }
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
