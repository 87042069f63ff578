using Xunit;
using RepoRoot = Farm.Tests.Shared.RepoRoot;

namespace Farm.Deploy.Tests;

/// <summary>
/// What the schema cannot see: the rendered objects of each overlay refer to each other correctly
/// (selectors, named ports, the service account's RBAC, the config file the nodes read), and the
/// nodes' arguments agree with their pods (ports, discovery service name, bootstrap quorum).
/// </summary>
public class ManifestWiringTests
{
    private const string Namespace = "farm";
    private const string NameLabel = "app.kubernetes.io/name";
    private const string ComponentLabel = "app.kubernetes.io/component";

    private static IEnumerable<K8sObject> Workloads(IReadOnlyList<K8sObject> objects)
    {
        var workloads = objects.Where(o => o.IsWorkload).ToList();
        Assert.NotEmpty(workloads);
        return workloads;
    }

    private static IEnumerable<Container> Containers(IReadOnlyList<K8sObject> objects) =>
        Workloads(objects).SelectMany(w => w.Template.Containers);

    private static int Replicas(K8sObject workload) => int.Parse(workload.Node.Str("spec", "replicas") ?? "1");

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void Workloads_SelectTheirOwnPodTemplateOnly(string overlay)
    {
        var workloads = Workloads(Manifests.Render(overlay)).ToList();
        foreach (var w in workloads)
        {
            Assert.True(w.Node.Get("spec", "selector", "matchExpressions") is null, $"{w}: matchExpressions are not checked here; use matchLabels");
            var selector = w.Node.StrMap("spec", "selector", "matchLabels");
            Assert.True(w.Template.IsSelectedBy(selector), $"{w}: selector {Show(selector)} does not match its pod labels {Show(w.Template.Labels)}");
            // Two controllers selecting the same pods would fight over them.
            foreach (var other in workloads.Where(o => o != w))
                Assert.False(other.Template.IsSelectedBy(selector), $"{w}'s selector also selects {other.Template}");
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void PodTemplates_CarryTheFarmLabelsAndTheirRole(string overlay)
    {
        foreach (var w in Workloads(Manifests.Render(overlay)))
        {
            var labels = w.Template.Labels;
            Assert.Equal("farm", labels.GetValueOrDefault(NameLabel));
            Assert.Equal("farm", labels.GetValueOrDefault("app.kubernetes.io/part-of"));
            var container = Assert.Single(w.Template.Containers);
            // The component label (which farm-api selects on) is the role the node runs.
            Assert.Equal(container.Arg("--roles"), labels.GetValueOrDefault(ComponentLabel));
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void Services_SelectPodsAndTargetPortsTheyHave(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var templates = Workloads(objects).Select(w => w.Template).ToList();
        foreach (var svc in objects.Where(o => o.Kind == "Service"))
        {
            var selector = svc.Node.StrMap("spec", "selector");
            var selected = templates.Where(t => t.IsSelectedBy(selector)).ToList();
            Assert.True(selected.Count > 0, $"{svc}: selector {Show(selector)} selects no pod template");
            foreach (var port in svc.Node.Seq("spec", "ports"))
            {
                string target = port.Str("targetPort") ?? port.Str("port")!;
                foreach (var t in selected)
                {
                    var ports = t.Containers.SelectMany(c => c.Ports).ToList();
                    bool found = int.TryParse(target, out _) ? ports.Any(p => p.Value == target) : ports.Any(p => p.Key == target);
                    Assert.True(found, $"{svc}: targetPort {target} is not a container port of {t} ({Show(ports)})");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void HeadlessService_LetsBootstrapReachEveryNode(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var coordinator = Assert.Single(objects, o => o.Kind == "StatefulSet");
        string governing = coordinator.Node.Str("spec", "serviceName")!;
        var svc = Assert.Single(objects, o => o.Kind == "Service" && o.Name == governing);
        Assert.Equal("None", svc.Node.Str("spec", "clusterIP"));
        // A node turns ready only after joining; before that its peers must still reach it.
        Assert.Equal("true", svc.Node.Str("spec", "publishNotReadyAddresses"));
        var names = svc.Node.Seq("spec", "ports").Select(p => p.Str("name")).ToList();
        Assert.Contains("management", names);
        Assert.Contains("remoting", names);
        var selector = svc.Node.StrMap("spec", "selector");
        foreach (var w in Workloads(objects))
            Assert.True(w.Template.IsSelectedBy(selector), $"{svc} does not select {w.Template}");
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void Probes_AskManagementHealthOnANamedPortOfTheirContainer(string overlay)
    {
        foreach (var c in Containers(Manifests.Render(overlay)))
        {
            foreach (var (probe, path) in new[] { ("livenessProbe", "/alive"), ("readinessProbe", "/ready"), ("startupProbe", "/ready") })
            {
                var get = c.Node.Get(probe, "httpGet");
                Assert.True(get is not null, $"{c}: no {probe}.httpGet");
                Assert.Equal(path, get.Str("path"));
                Assert.Equal("management", get.Str("port"));
                Assert.True(c.Ports.ContainsKey("management"), $"{c}: {probe} uses port 'management', which the container does not name");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void NodeArguments_AgreeWithTheContainerPorts(string overlay)
    {
        foreach (var c in Containers(Manifests.Render(overlay)))
        {
            // No command: the image's ENTRYPOINT (the farm apphost) runs, with these arguments.
            Assert.Null(c.Node.Get("command"));
            Assert.Equal("serve", c.Args.FirstOrDefault());
            Assert.Equal(c.Ports.GetValueOrDefault("remoting"), c.Arg("--port"));
            Assert.Equal(c.Ports.GetValueOrDefault("management"), c.Arg("--management-port"));
            // Nodes advertise the pod's own address, from the downward API.
            Assert.Equal("$(POD_IP)", c.Arg("--hostname"));
            var podIp = Assert.Single(c.Node.Seq("env"), e => e.Str("name") == "POD_IP");
            Assert.Equal("status.podIP", podIp.Str("valueFrom", "fieldRef", "fieldPath"));
            // The kubelet expands $(NAME) only for the container's own env vars; any other is passed verbatim.
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(string.Join(' ', c.Args), @"\$\(([^)]*)\)"))
                Assert.True(c.Env.ContainsKey(m.Groups[1].Value), $"{c}: its args use {m.Value}, which is not one of its env vars");
            if (c.Arg("--roles") == "coordinator")
            {
                var http = new Uri(c.Arg("--http")!);
                Assert.Equal("0.0.0.0", http.Host); // the Service reaches the pod on its address, not loopback
                Assert.Equal(c.Ports.GetValueOrDefault("http"), http.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void Discovery_FindsThePodsAndEnoughOfThemToForm(string overlay)
    {
        var objects = Manifests.Render(overlay);
        int nodes = Workloads(objects).Sum(Replicas);
        foreach (var c in Containers(objects))
        {
            Assert.Equal("kubernetes", c.Arg("--discovery"));
            // Kubernetes API discovery looks pods up by app.kubernetes.io/name=<service name>.
            Assert.Equal(c.Pod.Labels.GetValueOrDefault(NameLabel), c.Arg("--service-name"));
            // Bootstrap waits for this many contact points before it forms a cluster: never more than the pods.
            int required = int.Parse(c.Arg("--required-contact-points")!);
            Assert.True(required <= nodes, $"{c}: --required-contact-points {required} but the overlay runs {nodes} pods");
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void ServiceAccount_MayReadPodsInItsNamespace(string overlay)
    {
        var objects = Manifests.Render(overlay);
        foreach (var w in Workloads(objects))
        {
            string? account = w.Template.Spec.Str("serviceAccountName");
            Assert.True(account is not null, $"{w.Template}: no serviceAccountName (discovery lists pods with it)");
            Assert.NotEqual("false", w.Template.Spec.Str("automountServiceAccountToken"));
            string? ns = w.Namespace;
            Assert.Contains(objects, o => o.Kind == "ServiceAccount" && o.Name == account && o.Namespace == ns);
            var roles = objects
                .Where(o => o.Kind == "RoleBinding" && o.Namespace == ns && o.Node.Str("roleRef", "kind") == "Role")
                .Where(b => b.Node.Seq("subjects").Any(s => s.Str("kind") == "ServiceAccount" && s.Str("name") == account && (s.Str("namespace") ?? ns) == ns))
                .Select(b => objects.SingleOrDefault(o => o.Kind == "Role" && o.Namespace == ns && o.Name == b.Node.Str("roleRef", "name")))
                .OfType<K8sObject>();
            bool readsPods = roles.SelectMany(r => r.Node.Seq("rules")).Any(rule =>
                rule.Strs("apiGroups").Contains("") && rule.Strs("resources").Contains("pods")
                && new[] { "get", "list", "watch" }.All(rule.Strs("verbs").Contains));
            Assert.True(readsPods, $"service account {ns}/{account} has no RoleBinding to a Role that may get, list and watch pods");
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void ConfigArgument_IsAFileOfTheMountedConfigMap(string overlay)
    {
        var objects = Manifests.Render(overlay);
        foreach (var c in Containers(objects))
        {
            string config = c.Expand(c.Arg("--config") ?? "");
            Assert.StartsWith("/", config);
            var mount = c.Node.Seq("volumeMounts").SingleOrDefault(m => m.Str("mountPath") == Path.GetDirectoryName(config));
            Assert.True(mount is not null, $"{c}: nothing is mounted where --config {config} is");
            var volume = Assert.Single(c.Pod.Spec.Seq("volumes"), v => v.Str("name") == mount.Str("name"));
            string? configMap = volume.Str("configMap", "name");
            Assert.True(configMap is not null, $"{c}: {config} is not on a ConfigMap volume");
            var map = objects.SingleOrDefault(o => o.Kind == "ConfigMap" && o.Name == configMap && o.Namespace == c.Pod.Owner.Namespace);
            Assert.True(map is not null, $"{c}: ConfigMap {configMap} is not in the render");
            Assert.True(map.Node.Get("data", Path.GetFileName(config)) is not null, $"{c}: ConfigMap {configMap} has no {Path.GetFileName(config)}");
            // Every file of cluster-config/ is deployed, not only the one this overlay picks.
            foreach (string file in Directory.GetFiles(Path.Combine(RepoRoot.Path, "cluster-config"), "*.conf"))
                Assert.True(map.Node.Get("data", Path.GetFileName(file)) is not null, $"ConfigMap {configMap} lacks cluster-config/{Path.GetFileName(file)}");
        }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void Secrets_AreRenderedOrTheDocumentedApiToken(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var coordinator = Assert.Single(Containers(objects), c => c.Arg("--roles") == "coordinator");
        Assert.Equal("token", coordinator.Node.Seq("env").Single(e => e.Str("name") == "FARM_API_TOKEN").Str("valueFrom", "secretKeyRef", "key"));
        foreach (var c in Containers(objects))
            foreach (var env in c.Node.Seq("env").Where(e => e.Get("valueFrom", "secretKeyRef") is not null))
            {
                string name = env.Str("valueFrom", "secretKeyRef", "name")!, key = env.Str("valueFrom", "secretKeyRef", "key")!;
                var secret = objects.SingleOrDefault(o => o.Kind == "Secret" && o.Name == name && o.Namespace == c.Pod.Owner.Namespace);
                if (secret is not null)
                {
                    Assert.True(secret.Node.Get("data", key) is not null || secret.Node.Get("stringData", key) is not null, $"{c}: Secret {name} has no key {key}");
                    continue;
                }
                // Not rendered, so created out of band: only the API token, as docs/deployment.md tells.
                Assert.Equal("farm-api-token", name);
                Assert.Contains("create secret generic farm-api-token", File.ReadAllText(Path.Combine(RepoRoot.Path, "docs", "deployment.md")));
            }
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void Coordinator_IsOneReplicaWithItsStoreOnItsClaim(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var coordinators = Workloads(objects).Where(w => w.Template.Labels.GetValueOrDefault(ComponentLabel) == "coordinator").ToList();
        var sts = Assert.Single(coordinators);
        Assert.Equal("StatefulSet", sts.Kind);
        Assert.Equal(1, Replicas(sts)); // the singleton with one store; a second pod would hold a second, empty store
        var c = Assert.Single(sts.Template.Containers);
        string db = c.Arg("--db")!;
        var mount = c.Node.Seq("volumeMounts").SingleOrDefault(m => m.Str("mountPath") == Path.GetDirectoryName(db));
        Assert.True(mount is not null, $"{c}: --db {db} is not on a mounted volume");
        Assert.Contains(sts.Node.Seq("spec", "volumeClaimTemplates"), t => t.Str("metadata", "name") == mount.Str("name"));
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void Objects_AreAllInTheFarmNamespace(string overlay)
    {
        var objects = Manifests.Render(overlay);
        Assert.Contains(objects, o => o.Kind == "Namespace" && o.Name == Namespace);
        foreach (var o in objects.Where(o => o.Kind != "Namespace"))
            Assert.True(o.Namespace == Namespace, $"{o} is in namespace '{o.Namespace}', not {Namespace}");
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void Pods_RunAsTheImagesNonRootUserOnAReadOnlyRoot(string overlay)
    {
        foreach (var w in Workloads(Manifests.Render(overlay)))
        {
            var pod = w.Template.Spec;
            Assert.Equal("true", pod.Str("securityContext", "runAsNonRoot"));
            // 1654: the .NET images' "app" user, the Dockerfile's USER.
            Assert.Equal("1654", pod.Str("securityContext", "runAsUser"));
            Assert.Equal("1654", pod.Str("securityContext", "runAsGroup"));
            Assert.Equal("1654", pod.Str("securityContext", "fsGroup"));
            // No service links: the services farm and farm-api would add FARM_PORT, FARM_API_PORT, ... beside the FARM_* farm reads.
            Assert.Equal("false", pod.Str("enableServiceLinks"));
            foreach (var c in w.Template.Containers)
            {
                Assert.Equal("false", c.Node.Str("securityContext", "allowPrivilegeEscalation"));
                Assert.Equal("true", c.Node.Str("securityContext", "readOnlyRootFilesystem"));
                Assert.Contains("ALL", c.Node.Strs("securityContext", "capabilities", "drop"));
                Assert.NotNull(c.Node.Get("resources", "limits", "memory"));
                Assert.NotNull(c.Node.Get("resources", "requests", "cpu"));
                // The root is read-only; the runtime still needs a writable /tmp.
                var tmp = c.Node.Seq("volumeMounts").SingleOrDefault(m => m.Str("mountPath") == "/tmp");
                Assert.True(tmp is not null, $"{c}: no writable /tmp");
                Assert.Contains(pod.Seq("volumes"), v => v.Str("name") == tmp.Str("name") && v.Get("emptyDir") is not null);
            }
        }
    }

    private static string Show(IEnumerable<KeyValuePair<string, string>> map) => "{" + string.Join(", ", map.Select(kv => $"{kv.Key}={kv.Value}")) + "}";
}
