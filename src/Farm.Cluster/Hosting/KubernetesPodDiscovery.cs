using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Akka.Discovery;

namespace Farm.Cluster.Hosting;

/// <summary>
/// Kubernetes API discovery for cluster bootstrap: the running pods of this namespace that carry the
/// service's label, each resolved to its pod IP and the container port named as the lookup asks
/// (<c>management</c>). Reads the pod list over the API server's REST interface with the pod's
/// service-account token and CA, as Akka.Discovery.KubernetesApi does; that package (1.5.73) cannot
/// run here because it is built against KubernetesClient 17 and the registry serves 19 and 21, whose
/// models changed (docs/bootstrap.md).
/// </summary>
public sealed class KubernetesPodDiscovery : ServiceDiscovery
{
    private readonly Settings _settings;
    private readonly Lazy<HttpClient> _http;

    public KubernetesPodDiscovery(ExtendedActorSystem system, Config config)
    {
        _ = system;
        _settings = Settings.From(config);
        _http = new Lazy<HttpClient>(() => CreateClient(_settings));
    }

    /// <summary>The HOCON section this discovery method reads (<c>akka.discovery.kubernetes-api</c>).</summary>
    public static string DefaultConfig(string labelSelector) => $$"""
        akka.discovery.kubernetes-api {
          class = "{{typeof(KubernetesPodDiscovery).AssemblyQualifiedName}}"
          api-ca-path = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
          api-token-path = "/var/run/secrets/kubernetes.io/serviceaccount/token"
          api-service-host-env-name = "KUBERNETES_SERVICE_HOST"
          api-service-port-env-name = "KUBERNETES_SERVICE_PORT"
          pod-namespace-path = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
          pod-namespace = ""
          pod-label-selector = "{{labelSelector}}"
        }
        """;

    public override async Task<Resolved> Lookup(Lookup lookup, TimeSpan resolveTimeout)
    {
        string ns = _settings.Namespace();
        string selector = string.Format(System.Globalization.CultureInfo.InvariantCulture, _settings.LabelSelector, lookup.ServiceName);
        using var cts = new CancellationTokenSource(resolveTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"{_settings.ApiBase()}/api/v1/namespaces/{Uri.EscapeDataString(ns)}/pods?labelSelector={Uri.EscapeDataString(selector)}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(_settings.TokenPath).Trim());
        using var response = await _http.Value.SendAsync(request, cts.Token);
        string body = await response.Content.ReadAsStringAsync(cts.Token);
        if (response.StatusCode == HttpStatusCode.Forbidden)
            throw new InvalidOperationException($"Kubernetes API: forbidden to list pods in namespace '{ns}' (selector '{selector}'): the service account needs get, list and watch on pods (k8s/base: Role farm-pod-reader)");
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"Kubernetes API: listing pods in namespace '{ns}' answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 300)]}");
        return new Resolved(lookup.ServiceName, Targets(body, lookup.PortName));
    }

    /// <summary>Running pods that are not being deleted, at their IP and the named container port.</summary>
    internal static List<ResolvedTarget> Targets(string podListJson, string? portName)
    {
        var targets = new List<ResolvedTarget>();
        using var doc = JsonDocument.Parse(podListJson);
        if (!doc.RootElement.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array) return targets;
        foreach (var pod in items.EnumerateArray())
        {
            if (pod.TryGetProperty("metadata", out var meta) && meta.TryGetProperty("deletionTimestamp", out var deleting) && deleting.ValueKind != JsonValueKind.Null) continue;
            if (!pod.TryGetProperty("status", out var status)) continue;
            if (!(status.TryGetProperty("phase", out var phase) && phase.GetString() == "Running")) continue;
            if (!(status.TryGetProperty("podIP", out var ipText) && IPAddress.TryParse(ipText.GetString(), out var ip))) continue;
            if (string.IsNullOrEmpty(portName))
            {
                targets.Add(new ResolvedTarget(ip.ToString(), null, ip));
                continue;
            }
            if (NamedPort(pod, portName) is { } port) targets.Add(new ResolvedTarget(ip.ToString(), port, ip));
        }
        return targets;
    }

    private static int? NamedPort(JsonElement pod, string portName)
    {
        if (!pod.TryGetProperty("spec", out var spec) || !spec.TryGetProperty("containers", out var containers)) return null;
        foreach (var container in containers.EnumerateArray())
        {
            if (!container.TryGetProperty("ports", out var ports)) continue;
            foreach (var p in ports.EnumerateArray())
                if (p.TryGetProperty("name", out var name) && name.GetString() == portName && p.TryGetProperty("containerPort", out var number))
                    return number.GetInt32();
        }
        return null;
    }

    /// <summary>Trusts the API server only through the service account's CA (not the machine's store).</summary>
    private static HttpClient CreateClient(Settings s)
    {
        var ca = X509CertificateLoader.LoadCertificateFromFile(s.CaPath);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, errors) =>
        {
            if (cert is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
            if (errors == SslPolicyErrors.None) return true;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(cert));
        };
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    private sealed record Settings(string CaPath, string TokenPath, string HostEnv, string PortEnv, string NamespacePath, string NamespaceOverride, string LabelSelector)
    {
        public static Settings From(Config c) => new(
            c.GetString("api-ca-path"), c.GetString("api-token-path"), c.GetString("api-service-host-env-name"),
            c.GetString("api-service-port-env-name"), c.GetString("pod-namespace-path"), c.GetString("pod-namespace", ""),
            c.GetString("pod-label-selector"));

        public string Namespace() => NamespaceOverride is { Length: > 0 } ns ? ns : File.ReadAllText(NamespacePath).Trim();

        public string ApiBase()
        {
            string? host = Environment.GetEnvironmentVariable(HostEnv), port = Environment.GetEnvironmentVariable(PortEnv);
            if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
                throw new InvalidOperationException($"Kubernetes API: ${HostEnv} and ${PortEnv} must be set (they are inside a pod)");
            return $"https://{(host.Contains(':') ? $"[{host}]" : host)}:{port}";
        }
    }
}
