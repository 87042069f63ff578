using Akka.Actor;
using Akka.Configuration;
using Akka.Discovery;
using Farm.Cluster.Hosting;
using Xunit;

namespace Farm.Cluster.Tests.Hosting;

/// <summary>Kubernetes API discovery against a fake API server: what it asks, what it resolves, how it fails.</summary>
public sealed class KubernetesPodDiscoveryTests : IAsyncLifetime
{
    private ActorSystem _system = null!;

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("discovery-test", "akka.loglevel = WARNING");
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => _system.Terminate();

    private ServiceDiscovery DiscoveryFor(FakeKubernetesApi api) => new KubernetesPodDiscovery((ExtendedActorSystem)_system,
        ConfigurationFactory.ParseString(File.ReadAllText(api.ConfigOverlayPath))
            .WithFallback(ConfigurationFactory.ParseString(KubernetesPodDiscovery.DefaultConfig("app.kubernetes.io/name={0}")))
            .GetConfig("akka.discovery.kubernetes-api"));

    [Fact]
    public async Task ResolvesRunningPods_AtTheirIpAndNamedPort_AskingWithTokenSelectorAndNamespace()
    {
        await using var api = new FakeKubernetesApi();
        api.Pods.Add(FakeKubernetesApi.Pod("farm-coordinator-0", "Running", "10.1.0.7", 8558));
        api.Pods.Add(FakeKubernetesApi.Pod("farm-worker-a", "Running", "10.1.0.9", 8558));
        api.Pods.Add(FakeKubernetesApi.Pod("farm-worker-b", "Pending", "10.1.0.10", 8558));
        api.Pods.Add(FakeKubernetesApi.Pod("farm-worker-c", "Running", "10.1.0.11", 8558, deleting: true));
        api.Pods.Add(FakeKubernetesApi.Pod("farm-worker-d", "Running", "10.1.0.12", managementPort: null));

        var resolved = await DiscoveryFor(api).Lookup(new Lookup("farm", "management", "tcp"), TimeSpan.FromMinutes(1));

        Assert.Equal(["10.1.0.7:8558", "10.1.0.9:8558"], resolved.Addresses.Select(t => $"{t.Host}:{t.Port}").Order());
        Assert.All(resolved.Addresses, t => Assert.NotNull(t.Address));
        var (path, query, auth) = Assert.Single(api.Requests);
        Assert.Equal($"/api/v1/namespaces/{FakeKubernetesApi.Namespace}/pods", path);
        Assert.Equal("?labelSelector=app.kubernetes.io%2Fname%3Dfarm", query);
        Assert.Equal($"Bearer {FakeKubernetesApi.Token}", auth);
    }

    [Fact]
    public async Task Forbidden_SaysWhichPermissionIsMissing()
    {
        await using var api = new FakeKubernetesApi { Forbidden = true };
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => DiscoveryFor(api).Lookup(new Lookup("farm", "management", "tcp"), TimeSpan.FromMinutes(1)));
        Assert.Contains("forbidden to list pods in namespace 'farm'", e.Message);
        Assert.Contains("get, list and watch on pods", e.Message);
    }

    [Fact]
    public async Task AnApiServerNotSignedByTheServiceAccountCa_IsNotTrusted()
    {
        // The server presents a certificate of its own; the CA file holds a different one.
        await using var api = new FakeKubernetesApi(serverCertificate: FakeKubernetesApi.SelfSigned());
        api.Pods.Add(FakeKubernetesApi.Pod("farm-coordinator-0", "Running", "10.1.0.7", 8558));
        await Assert.ThrowsAsync<HttpRequestException>(() => DiscoveryFor(api).Lookup(new Lookup("farm", "management", "tcp"), TimeSpan.FromMinutes(1)));
        Assert.Empty(api.Requests);
    }
}
