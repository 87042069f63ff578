using System.Globalization;
using Xunit;
using YamlDotNet.RepresentationModel;
using RepoRoot = Farm.Tests.Shared.RepoRoot;

namespace Farm.Deploy.Tests;

/// <summary>
/// What a production namespace review asks of the rendered overlays (issue 17 item 4): the workers'
/// disruption budget, the NetworkPolicies, a startup probe that waits for the join, the worker
/// rollout, release labels outside every selector, a bounded /tmp, and the Prometheus scrape wiring.
/// docs/deployment.md says why each is as it is.
/// </summary>
public class ManifestOperationsTests
{
    private const string NameLabel = "app.kubernetes.io/name";
    private const string ComponentLabel = "app.kubernetes.io/component";
    private const string VersionLabel = "app.kubernetes.io/version";
    private const string InstanceLabel = "app.kubernetes.io/instance";

    private static List<PodTemplate> Templates(IReadOnlyList<K8sObject> objects)
    {
        var templates = objects.Where(o => o.IsWorkload).Select(o => o.Template).ToList();
        Assert.NotEmpty(templates);
        return templates;
    }

    private static PodTemplate Role(IReadOnlyList<K8sObject> objects, string role) =>
        Assert.Single(Templates(objects), t => t.Labels.GetValueOrDefault(ComponentLabel) == role);

    /// <summary>A label selector's matchLabels; matchExpressions are refused, so matchLabels is the whole selector.</summary>
    private static IReadOnlyDictionary<string, string> MatchLabels(YamlNode? selector, string where)
    {
        Assert.True(selector is not null, $"{where}: no selector");
        Assert.True(selector.Get("matchExpressions") is null, $"{where}: matchExpressions are not checked here; use matchLabels");
        return selector.StrMap("matchLabels");
    }

    private static IReadOnlyDictionary<string, string> Labels(YamlNode node) => node.StrMap("metadata", "labels");

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void WorkerDisruptionBudget_TakesOneWorkerAtATimeAndLeavesTheCoordinatorAlone(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var worker = Role(objects, "worker");
        var coordinator = Role(objects, "coordinator");
        var budgets = objects.Where(o => o.Kind == "PodDisruptionBudget").ToList();

        var pdb = Assert.Single(budgets, b => worker.IsSelectedBy(MatchLabels(b.Node.Get("spec", "selector"), b.ToString())));
        // The Deployment's own selector: the budget counts exactly the pods the Deployment keeps.
        Assert.Equal(worker.Owner.Node.StrMap("spec", "selector", "matchLabels"), MatchLabels(pdb.Node.Get("spec", "selector"), pdb.ToString()));
        // maxUnavailable 1 holds at any replica count (minAvailable would need re-setting on every scale).
        Assert.Equal("1", pdb.Node.Str("spec", "maxUnavailable"));
        Assert.Null(pdb.Node.Get("spec", "minAvailable"));
        // A worker that never joined (not ready) must not block a drain.
        Assert.Equal("AlwaysAllow", pdb.Node.Str("spec", "unhealthyPodEvictionPolicy"));
        // Decision (docs/deployment.md): no budget for the single coordinator; one would block every drain.
        foreach (var b in budgets)
            Assert.False(coordinator.IsSelectedBy(MatchLabels(b.Node.Get("spec", "selector"), b.ToString())), $"{b} selects {coordinator}");
    }

    /// <summary>An ingress peer (one entry of a rule's <c>from</c>).</summary>
    private sealed record Peer(K8sObject Policy, YamlNode Rule, YamlNode Node)
    {
        /// <summary>A pod of the policy's own namespace carrying the farm's name label: one of the farm's own pods.</summary>
        public bool IsFarmPod =>
            Node.Get("namespaceSelector") is null && Node.Get("ipBlock") is null
            && Node.StrMap("podSelector", "matchLabels").GetValueOrDefault(NameLabel) == "farm";

        /// <summary>Any pod of the policy's own namespace (<c>podSelector: {}</c>).</summary>
        public bool IsNamespaceLocal =>
            Node.Get("namespaceSelector") is null && Node.Get("ipBlock") is null
            && Node.Get("podSelector") is YamlMappingNode { Children.Count: 0 };

        public IReadOnlyList<string> Ports => [.. Rule.Seq("ports").Select(p => p.Str("port") ?? "")];

        public override string ToString() => $"{Policy}: peer {{{string.Join(", ", ((YamlMappingNode)Node).Children.Select(kv => kv.Key.ToString()))}}}";
    }

    private static IEnumerable<K8sObject> Policies(IReadOnlyList<K8sObject> objects) => objects.Where(o => o.Kind == "NetworkPolicy");

    private static bool Selects(K8sObject policy, PodTemplate t) => t.IsSelectedBy(MatchLabels(policy.Node.Get("spec", "podSelector"), policy.ToString()));

    /// <summary>Every peer that may connect to <paramref name="t"/> on the port named <paramref name="port"/>.</summary>
    private static List<Peer> PeersAdmittedTo(IReadOnlyList<K8sObject> objects, PodTemplate t, string port) =>
        [.. Policies(objects).Where(p => Selects(p, t))
            .SelectMany(p => p.Node.Seq("spec", "ingress").Select(rule => (p, rule)))
            .Where(x => x.rule.Seq("ports").Any(q => q.Str("port") == port))
            .SelectMany(x => x.rule.Seq("from").Select(peer => new Peer(x.p, x.rule, peer)))];

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void NetworkPolicies_IsolateEveryFarmPodAndAdmitItsNamedPortsOnly(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var templates = Templates(objects);
        var policies = Policies(objects).ToList();
        Assert.NotEmpty(policies);
        foreach (var t in templates)
            Assert.True(policies.Any(p => Selects(p, t)), $"no NetworkPolicy selects {t}: every port of it is open to every pod");
        foreach (var p in policies)
        {
            // Ingress only: egress to the API server (discovery), DNS and a metrics collector stays open (docs/deployment.md).
            Assert.Equal(new[] { "Ingress" }, p.Node.Strs("spec", "policyTypes"));
            Assert.Null(p.Node.Get("spec", "egress"));
            var selected = templates.Where(t => Selects(p, t)).ToList();
            Assert.True(selected.Count > 0, $"{p}: its podSelector selects none of the farm's pods");
            foreach (var rule in p.Node.Seq("spec", "ingress"))
            {
                // A rule without ports admits every port; without from (or with an empty one), every source.
                var ports = rule.Seq("ports").ToList();
                Assert.True(ports.Count > 0, $"{p}: an ingress rule without ports admits every port");
                Assert.True(rule.Seq("from").Any(), $"{p}: an ingress rule without peers admits every source");
                foreach (var port in ports.Select(q => q.Str("port") ?? ""))
                {
                    Assert.False(int.TryParse(port, out _), $"{p}: port {port} by number; name the container port");
                    foreach (var t in selected)
                        Assert.True(t.Containers.Any(c => c.Ports.ContainsKey(port)), $"{p}: port {port} is not a named container port of {t}");
                }
                foreach (var peer in rule.Seq("from"))
                {
                    Assert.True(peer.Get("ipBlock") is null, $"{p}: an ipBlock peer; the farm's rules name pods and namespaces");
                    Assert.True(peer.Get("namespaceSelector") is not YamlMappingNode { Children.Count: 0 }, $"{p}: namespaceSelector {{}} admits every namespace");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void NetworkPolicies_AdmitRemotingAndManagementOnlyFromTheFarmsOwnPods(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var templates = Templates(objects);
        foreach (var t in templates)
        {
            foreach (string port in new[] { "remoting", "management" })
            {
                var peers = PeersAdmittedTo(objects, t, port);
                // Every node reaches every other node: bootstrap probes management, the cluster talks over remoting.
                foreach (var from in templates)
                    Assert.True(peers.Any(peer => peer.IsFarmPod && from.IsSelectedBy(peer.Node.StrMap("podSelector", "matchLabels"))),
                        $"{from} may not reach {t} on {port}");
                foreach (var peer in peers.Where(peer => !peer.IsFarmPod))
                {
                    // The one exception: Prometheus scrapes /metrics on the management port, from named pods of a named namespace.
                    Assert.True(port == "management" && peer.Policy.Name == "farm-metrics", $"{peer} admits {port} to {t} from beyond the farm's pods");
                    Assert.Equal(new[] { "management" }, peer.Ports);
                    Assert.NotEmpty(peer.Node.StrMap("namespaceSelector", "matchLabels"));
                    Assert.NotEmpty(peer.Node.StrMap("podSelector", "matchLabels"));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void ApiPolicy_AdmitsTheHttpPortOfTheCoordinatorFromWhereTheOverlaySays(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var coordinator = Role(objects, "coordinator");
        var peers = PeersAdmittedTo(objects, coordinator, "http");
        Assert.NotEmpty(peers);
        // The namespace's own pods always; local: nothing more (kubectl port-forward is not subject to policies).
        Assert.Contains(peers, p => p.IsNamespaceLocal);
        if (overlay == "local") Assert.All(peers, p => Assert.True(p.IsNamespaceLocal, $"{p}: local admits the API from its namespace only"));
        string doc = File.ReadAllText(Path.Combine(RepoRoot.Path, "docs", "deployment.md"));
        foreach (var peer in peers.Where(p => !p.IsNamespaceLocal))
            foreach (var label in peer.Node.StrMap("namespaceSelector", "matchLabels").Concat(peer.Node.StrMap("podSelector", "matchLabels")))
                Assert.True(doc.Contains($"{label.Key}={label.Value}", StringComparison.Ordinal),
                    $"{peer}: docs/deployment.md does not say how to admit an API client ({label.Key}={label.Value})");
        // Only the coordinator serves the API: no policy opens http on a worker.
        var worker = Role(objects, "worker");
        Assert.Empty(PeersAdmittedTo(objects, worker, "http"));
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void StartupProbe_WaitsForTheNodeToJoinNotForTheProcess(string overlay)
    {
        foreach (var c in Templates(Manifests.Render(overlay)).SelectMany(t => t.Containers))
        {
            // /ready answers 200 only for an Up (or WeaklyUp) member (ManagementRoutes, docs/bootstrap.md); /alive once the actor system runs.
            Assert.Equal("/ready", c.Node.Str("startupProbe", "httpGet", "path"));
            Assert.Equal("management", c.Node.Str("startupProbe", "httpGet", "port"));
            Assert.Equal("/alive", c.Node.Str("livenessProbe", "httpGet", "path"));
            // Bootstrap needs its contact points found and stable for the stable margin (5 s) before it forms a
            // cluster; a startup budget under a minute would restart nodes that are still forming.
            int budget = int.Parse(c.Node.Str("startupProbe", "periodSeconds") ?? "10", CultureInfo.InvariantCulture)
                * int.Parse(c.Node.Str("startupProbe", "failureThreshold") ?? "3", CultureInfo.InvariantCulture);
            Assert.True(budget >= 60, $"{c}: the startup probe gives the join {budget} s");
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void WorkerRollout_StartsANewWorkerBeforeStoppingAnOldOne(string overlay)
    {
        var deployment = Role(Manifests.Render(overlay), "worker").Owner;
        Assert.Equal("Deployment", deployment.Kind);
        Assert.Equal("RollingUpdate", deployment.Node.Str("spec", "strategy", "type"));
        Assert.Equal("0", deployment.Node.Str("spec", "strategy", "rollingUpdate", "maxUnavailable"));
        Assert.Equal("1", deployment.Node.Str("spec", "strategy", "rollingUpdate", "maxSurge"));
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void ReleaseLabels_AreOnEveryObjectAndPodAndTheVersionIsTheImageTag(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var instances = new HashSet<string>();
        var versions = new HashSet<string>();
        foreach (var o in objects)
        {
            var labels = Labels(o.Node);
            Assert.True(labels.ContainsKey(VersionLabel) && labels.ContainsKey(InstanceLabel), $"{o} lacks {VersionLabel} or {InstanceLabel}");
            versions.Add(labels[VersionLabel]);
            instances.Add(labels[InstanceLabel]);
        }
        foreach (var t in Templates(objects))
        {
            foreach (string label in new[] { VersionLabel, InstanceLabel })
                Assert.True(t.Labels.GetValueOrDefault(label) == Labels(t.Owner.Node)[label], $"{t}: {label} is '{t.Labels.GetValueOrDefault(label)}', its workload's '{Labels(t.Owner.Node)[label]}'");
            foreach (var c in t.Containers)
            {
                string image = c.Node.Str("image")!;
                Assert.Equal(image[(image.LastIndexOf(':') + 1)..], t.Labels.GetValueOrDefault(VersionLabel));
            }
        }
        Assert.Single(versions);
        Assert.Single(instances);
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void Selectors_HoldNoReleaseLabelSoUpgradesKeepThem(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var selectors = new List<(string Where, IReadOnlyDictionary<string, string> Labels)>();
        foreach (var o in objects)
        {
            switch (o.Kind)
            {
                case "Deployment" or "StatefulSet":
                    var workload = MatchLabels(o.Node.Get("spec", "selector"), o.ToString());
                    // Immutable after creation: the labels every release has, and nothing else.
                    Assert.True(workload.Keys.All(k => k is NameLabel or ComponentLabel), $"{o}: selector {string.Join(", ", workload.Keys)}");
                    selectors.Add((o.ToString(), workload));
                    // volumeClaimTemplates are immutable too: a release label there would fail every upgrade.
                    foreach (var claim in o.Node.Seq("spec", "volumeClaimTemplates"))
                        selectors.Add(($"{o}'s claim template", Labels(claim)));
                    break;
                case "Service":
                    selectors.Add((o.ToString(), o.Node.StrMap("spec", "selector")));
                    break;
                case "PodDisruptionBudget" or "ServiceMonitor":
                    selectors.Add((o.ToString(), MatchLabels(o.Node.Get("spec", "selector"), o.ToString())));
                    break;
                case "NetworkPolicy":
                    selectors.Add((o.ToString(), MatchLabels(o.Node.Get("spec", "podSelector"), o.ToString())));
                    foreach (var peer in o.Node.Seq("spec", "ingress").SelectMany(r => r.Seq("from")))
                        selectors.Add(($"{o}'s peer", peer.StrMap("podSelector", "matchLabels")));
                    break;
            }
        }
        Assert.Contains(selectors, s => s.Where.StartsWith("NetworkPolicy/", StringComparison.Ordinal));
        foreach (var (where, labels) in selectors)
            Assert.True(!labels.ContainsKey(VersionLabel) && !labels.ContainsKey(InstanceLabel), $"{where} selects on a release label");
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void EmptyDirs_HaveASizeLimit(string overlay)
    {
        foreach (var t in Templates(Manifests.Render(overlay)))
        {
            var emptyDirs = t.Spec.Seq("volumes").Where(v => v.Get("emptyDir") is not null).ToList();
            Assert.NotEmpty(emptyDirs); // /tmp (ManifestWiringTests checks it is one)
            foreach (var v in emptyDirs)
            {
                string? limit = v.Str("emptyDir", "sizeLimit");
                Assert.True(limit is not null, $"{t}: emptyDir {v.Str("name")} has no sizeLimit (it could fill the node's disk)");
                Assert.Matches(@"^[1-9][0-9]*(Ki|Mi|Gi)$", limit);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void ScrapeAnnotations_PointAtMetricsOnTheManagementPort(string overlay)
    {
        foreach (var t in Templates(Manifests.Render(overlay)))
        {
            var annotations = t.Node.StrMap("metadata", "annotations");
            Assert.Equal("true", annotations.GetValueOrDefault("prometheus.io/scrape"));
            Assert.Equal("/metrics", annotations.GetValueOrDefault("prometheus.io/path"));
            // A number: the conventional relabelling puts it into the target address as it is.
            var container = Assert.Single(t.Containers);
            Assert.Equal(container.Ports.GetValueOrDefault("management"), annotations.GetValueOrDefault("prometheus.io/port"));
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void ServiceMonitor_ScrapesMetricsOnTheManagementPortOfEveryNode(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var templates = Templates(objects);
        foreach (var monitor in objects.Where(o => o.Kind == "ServiceMonitor"))
        {
            Assert.Equal("monitoring.coreos.com/v1", monitor.Node.Str("apiVersion"));
            Assert.Contains(monitor.Namespace!, monitor.Node.Strs("spec", "namespaceSelector", "matchNames"));
            var selector = MatchLabels(monitor.Node.Get("spec", "selector"), monitor.ToString());
            var services = objects.Where(o => o.Kind == "Service" && o.Namespace == monitor.Namespace
                && selector.Count > 0 && selector.All(kv => Labels(o.Node).GetValueOrDefault(kv.Key) == kv.Value)).ToList();
            var endpoint = Assert.Single(monitor.Node.Seq("spec", "endpoints"));
            Assert.Equal("/metrics", endpoint.Str("path"));
            string port = endpoint.Str("port")!;
            // The Services that carry that port, targeting the pods' management port; together they reach every node.
            var scraped = services.Where(s => s.Node.Seq("spec", "ports").Any(p => p.Str("name") == port)).ToList();
            Assert.True(scraped.Count > 0, $"{monitor}: no Service it selects has a port named {port}");
            foreach (var s in scraped)
                Assert.Equal("management", s.Node.Seq("spec", "ports").Single(p => p.Str("name") == port).Str("targetPort"));
            foreach (var t in templates)
                Assert.True(scraped.Any(s => t.IsSelectedBy(s.Node.StrMap("spec", "selector"))), $"{monitor} does not scrape {t}");
        }
    }

    [Fact]
    public void ServiceMonitor_IsOptInAndAddsNothingElse()
    {
        // Without the Prometheus Operator's CRDs a ServiceMonitor cannot be applied: local and production have none.
        Assert.DoesNotContain(Manifests.Render("local"), o => o.Kind == "ServiceMonitor");
        var production = Manifests.Render("production");
        Assert.DoesNotContain(production, o => o.Kind == "ServiceMonitor");
        // production-servicemonitor is production plus exactly one ServiceMonitor, every other object unchanged.
        var monitored = Manifests.Render("production-servicemonitor");
        Assert.Single(monitored, o => o.Kind == "ServiceMonitor");
        Assert.Equal(
            production.Select(Serialize).Order(StringComparer.Ordinal),
            monitored.Where(o => o.Kind != "ServiceMonitor").Select(Serialize).Order(StringComparer.Ordinal));
    }

    private static string Serialize(K8sObject o)
    {
        var writer = new StringWriter();
        new YamlStream(new YamlDocument(o.Node)).Save(writer, assignAnchors: false);
        return writer.ToString();
    }
}
