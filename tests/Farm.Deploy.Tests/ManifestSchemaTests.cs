using Farm.Tests.Shared;
using Xunit;
using RepoRoot = Farm.Tests.Shared.RepoRoot;

namespace Farm.Deploy.Tests;

/// <summary>
/// Every overlay renders, and every rendered object passes the Kubernetes API schema, checked offline by
/// k8s/validate (kubernetes-models). The validator is itself shown to reject bad objects.
/// </summary>
public class ManifestSchemaTests
{
    [Fact]
    public void Overlays_IncludeLocalAndProduction()
    {
        var overlays = Manifests.OverlayNames.ToList();
        Assert.Contains("local", overlays);
        Assert.Contains("production", overlays);
    }

    [Theory]
    [MemberData(nameof(Manifests.Overlays), MemberType = typeof(Manifests))]
    public void Overlay_PassesTheKubernetesSchema(string overlay)
    {
        var r = Validate(Manifests.RenderText(overlay));
        Assert.True(r.Code == 0, $"k8s/overlays/{overlay} has objects the Kubernetes API would reject:\n{r.Err}");
        Assert.Matches(@"^valid: \d+ objects", r.Out);
    }

    private static string Deployment(string replicas, string container) => $$$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: broken}
        spec:
          replicas: {{{replicas}}}
          selector: {matchLabels: {app: x}}
          template:
            metadata: {labels: {app: x}}
            spec: {containers: [{{{container}}}]}
        """;

    /// <summary>Broken objects by case name: the document, and what the validator must say about it.</summary>
    private static readonly Dictionary<string, (string Yaml, string Expected)> Broken = new()
    {
        ["replicas-not-a-number"] = (Deployment("two", "{name: c, image: farm}"), "data/spec/replicas must be integer"),
        ["container-without-name"] = (Deployment("1", "{image: farm}"), "must have required property name"),
        ["service-port-not-a-number"] = ("apiVersion: v1\nkind: Service\nmetadata: {name: broken}\nspec: {ports: [{port: http}]}\n",
            "data/spec/ports/0/port must be integer"),
        ["unknown-kind"] = ("apiVersion: apps/v1\nkind: Widget\nmetadata: {name: broken}\n", "kind Widget is unknown in apps/v1"),
        ["part-not-an-object"] = ("apiVersion: v1\nkind: Container\nmetadata: {name: broken}\n", "kind Container is unknown in v1"),
        ["budget-not-a-count"] = ("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: broken}\nspec: {maxUnavailable: true}\n",
            "data/spec/maxUnavailable must be integer"),
        ["network-policy-bad-protocol"] = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: broken}\nspec: {podSelector: {}, ingress: [{ports: [{port: http, protocol: HTTP}]}]}\n",
            "data/spec/ingress/0/ports/0/protocol must be equal to one of the allowed values"),
        // A custom resource, checked against its CRD's schema (@kubernetes-models/prometheus-operator).
        ["service-monitor-port-a-number"] = ("apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: broken}\nspec: {selector: {}, endpoints: [{port: 8558}]}\n",
            "data/spec/endpoints/0/port must be string"),
    };

    public static TheoryData<string> BrokenCases => [.. Broken.Keys];

    [Theory]
    [MemberData(nameof(BrokenCases))]
    public void Validator_RejectsABrokenObject(string name)
    {
        var (yaml, expected) = Broken[name];
        // A valid object before the broken one: the bad one must be named, and must fail the whole input.
        var r = Validate("apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\n" + yaml);

        Assert.True(r.Code != 0, $"the validator accepted a broken object ({name}):\n{r}");
        Assert.Contains("invalid: document 2", r.Err);
        Assert.Contains("/broken", r.Err);
        Assert.Contains(expected, r.Err);
        Assert.DoesNotContain("document 1", r.Err);
    }

    private static Proc.Result Validate(string yaml)
    {
        string tool = Path.Combine(RepoRoot.Path, "k8s", "validate");
        if (!Directory.Exists(Path.Combine(tool, "node_modules", "kubernetes-models")))
            Assert.Fail("k8s/validate/node_modules is missing: run `npm ci --prefix k8s/validate` (.ci/run does)");
        return Proc.Run("node", [Path.Combine(tool, "validate.mjs")], stdin: yaml, timeout: TimeSpan.FromMinutes(10));
    }
}
