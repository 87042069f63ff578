using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Farm.Cluster.Tests.Hosting;

/// <summary>
/// The slice of a Kubernetes API server that pod discovery uses: GET /api/v1/namespaces/NS/pods
/// over TLS with a CA of its own and a bearer token, answering a pod list. Writes the service-account
/// files (ca.crt, token, namespace) a pod would have, and a HOCON overlay pointing discovery at them.
/// </summary>
internal sealed class FakeKubernetesApi : IAsyncDisposable
{
    public const string Token = "test-service-account-token";
    public const string Namespace = "farm";

    private readonly WebApplication _app;
    private readonly string _dir;

    public ConcurrentQueue<(string Path, string Query, string? Authorization)> Requests { get; } = new();
    /// <summary>The pods the list answers with (JSON objects as the API returns them).</summary>
    public List<JsonObject> Pods { get; } = [];
    public bool Forbidden { get; set; }
    public int Port { get; }
    /// <summary>A HOCON overlay for a node: discovery reads these files and these environment variables.</summary>
    public string ConfigOverlayPath { get; }
    public string HostEnv { get; } = $"FARM_TEST_K8S_HOST_{Guid.NewGuid():N}";
    public string PortEnv { get; } = $"FARM_TEST_K8S_PORT_{Guid.NewGuid():N}";

    public FakeKubernetesApi(X509Certificate2? serverCertificate = null)
    {
        _dir = Path.Combine(Path.GetTempPath(), "farm-fake-k8s", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        var ca = SelfSigned();
        File.WriteAllText(Path.Combine(_dir, "ca.crt"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dir, "token"), Token + "\n");
        File.WriteAllText(Path.Combine(_dir, "namespace"), Namespace);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var tlsCertificate = serverCertificate ?? ca;
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(tlsCertificate)));
        _app = builder.Build();
        _app.MapGet("/api/v1/namespaces/{ns}/pods", (HttpContext c, string ns) =>
        {
            Requests.Enqueue((c.Request.Path, c.Request.QueryString.Value ?? "", c.Request.Headers.Authorization.FirstOrDefault()));
            if (c.Request.Headers.Authorization != $"Bearer {Token}") return Results.StatusCode(401);
            if (Forbidden) return Results.Json(new { kind = "Status", reason = "Forbidden" }, statusCode: 403);
            JsonArray items;
            lock (Pods) items = [.. Pods.Select(p => p.DeepClone())];
            return Results.Text(new JsonObject { ["kind"] = "PodList", ["apiVersion"] = "v1", ["items"] = items }.ToJsonString(), "application/json");
        });
        _app.StartAsync().GetAwaiter().GetResult();
        Port = new Uri(_app.Urls.First()).Port;
        Environment.SetEnvironmentVariable(HostEnv, "127.0.0.1");
        Environment.SetEnvironmentVariable(PortEnv, Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        ConfigOverlayPath = Path.Combine(_dir, "k8s.conf");
        File.WriteAllText(ConfigOverlayPath, $$"""
            akka.discovery.kubernetes-api {
              api-ca-path = "{{Path.Combine(_dir, "ca.crt")}}"
              api-token-path = "{{Path.Combine(_dir, "token")}}"
              pod-namespace-path = "{{Path.Combine(_dir, "namespace")}}"
              api-service-host-env-name = "{{HostEnv}}"
              api-service-port-env-name = "{{PortEnv}}"
            }
            akka.cluster.failure-detector.acceptable-heartbeat-pause = 3s
            akka.cluster.split-brain-resolver.stable-after = 3s
            """);
    }

    /// <summary>A pod as the API lists it: phase, IP, and a container with a named management port.</summary>
    public static JsonObject Pod(string name, string phase, string ip, int? managementPort, bool deleting = false)
    {
        var ports = new JsonArray { new JsonObject { ["name"] = "remoting", ["containerPort"] = 4053 } };
        if (managementPort is { } p) ports.Add(new JsonObject { ["name"] = "management", ["containerPort"] = p });
        var meta = new JsonObject { ["name"] = name, ["namespace"] = Namespace, ["labels"] = new JsonObject { ["app.kubernetes.io/name"] = "farm" } };
        if (deleting) meta["deletionTimestamp"] = "2026-11-25T12:00:00Z";
        return new JsonObject
        {
            ["metadata"] = meta,
            ["spec"] = new JsonObject { ["containers"] = new JsonArray { new JsonObject { ["name"] = "farm", ["image"] = "farm:dev", ["ports"] = ports } } },
            ["status"] = new JsonObject { ["phase"] = phase, ["podIP"] = ip },
        };
    }

    /// <summary>A self-signed certificate for 127.0.0.1 with its private key, usable by Kestrel.</summary>
    public static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=fake-kube-apiserver", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Environment.SetEnvironmentVariable(HostEnv, null);
        Environment.SetEnvironmentVariable(PortEnv, null);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
