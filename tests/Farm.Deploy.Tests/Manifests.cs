using Farm.Tests.Shared;
using System.Collections.Concurrent;
using Xunit;
using YamlDotNet.RepresentationModel;
using RepoRoot = Farm.Tests.Shared.RepoRoot;

namespace Farm.Deploy.Tests;

/// <summary>The overlays under k8s/overlays, rendered with <c>kubectl kustomize</c> (once per overlay and test run).</summary>
internal static class Manifests
{
    public static string OverlaysDir => Path.Combine(RepoRoot.Path, "k8s", "overlays");

    /// <summary>Every overlay folder: a new overlay is tested without touching the tests.</summary>
    public static IReadOnlyList<string> OverlayNames =>
        [.. Directory.GetDirectories(OverlaysDir).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal)];

    public static TheoryData<string> Overlays => [.. OverlayNames];

    private static readonly ConcurrentDictionary<string, Lazy<string>> Texts = new();

    public static string RenderText(string overlay) => Texts.GetOrAdd(overlay, o => new Lazy<string>(() => Kustomize(o))).Value;

    public static IReadOnlyList<K8sObject> Render(string overlay)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(RenderText(overlay)));
        return [.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().Select(n => new K8sObject(n))];
    }

    private static string Kustomize(string overlay)
    {
        Proc.Result r;
        try
        {
            r = Proc.Run("kubectl", ["kustomize", Path.Combine("k8s", "overlays", overlay)], timeout: TimeSpan.FromMinutes(10));
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"rendering needs kubectl (with kustomize v5, kubectl 1.27 or later): {e.Message}", e);
        }
        if (r.Code != 0) throw new InvalidOperationException($"kubectl kustomize k8s/overlays/{overlay} failed:\n{r}");
        return r.Out;
    }
}

/// <summary>One rendered object.</summary>
internal sealed record K8sObject(YamlMappingNode Node)
{
    public string Kind => Node.Str("kind") ?? "";
    public string Name => Node.Str("metadata", "name") ?? "";
    public string? Namespace => Node.Str("metadata", "namespace");
    public bool IsWorkload => Kind is "Deployment" or "StatefulSet";

    /// <summary>The pod template of a Deployment or StatefulSet.</summary>
    public PodTemplate Template => new(this, Node.Get("spec", "template") ?? throw new InvalidOperationException($"{this} has no pod template"));

    public override string ToString() => $"{Kind}/{Name}";
}

/// <summary>A workload's pod template.</summary>
internal sealed record PodTemplate(K8sObject Owner, YamlNode Node)
{
    public IReadOnlyDictionary<string, string> Labels => Node.StrMap("metadata", "labels");
    public YamlNode? Spec => Node.Get("spec");
    public IEnumerable<Container> Containers => Node.Seq("spec", "containers").Select(c => new Container(this, c));

    /// <summary>True when every key/value of <paramref name="selector"/> is one of this template's labels.</summary>
    public bool IsSelectedBy(IReadOnlyDictionary<string, string> selector) =>
        selector.Count > 0 && selector.All(kv => Labels.TryGetValue(kv.Key, out var v) && v == kv.Value);

    public override string ToString() => $"{Owner}'s pod template";
}

/// <summary>A container of a pod template, with its <c>farm</c> arguments read as flag/value pairs.</summary>
internal sealed record Container(PodTemplate Pod, YamlNode Node)
{
    public string Name => Node.Str("name") ?? "";
    public IReadOnlyList<string> Args => [.. Node.Seq("args").Select(a => ((YamlScalarNode)a).Value ?? "")];

    /// <summary>Named container ports: name → containerPort.</summary>
    public IReadOnlyDictionary<string, string> Ports =>
        Node.Seq("ports").Where(p => p.Str("name") is not null).ToDictionary(p => p.Str("name")!, p => p.Str("containerPort") ?? "");

    /// <summary>The value after <paramref name="flag"/> in the arguments, or null.</summary>
    public string? Arg(string flag)
    {
        var args = Args;
        int i = args.ToList().IndexOf(flag);
        return i >= 0 && i + 1 < args.Count ? args[i + 1] : null;
    }

    /// <summary>Env var name → literal value (null for valueFrom).</summary>
    public IReadOnlyDictionary<string, string?> Env => Node.Seq("env").ToDictionary(e => e.Str("name")!, e => e.Str("value"));

    /// <summary>An argument with $(NAME) references to literal env values expanded, as the kubelet does.</summary>
    public string Expand(string value) => System.Text.RegularExpressions.Regex.Replace(value, @"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
        m => Env.TryGetValue(m.Groups[1].Value, out var v) && v is not null ? v : m.Value);

    public override string ToString() => $"container {Name} of {Pod.Owner}";
}

/// <summary>Path lookups on YAML nodes; a missing step gives null (or nothing), never an exception.</summary>
internal static class Yaml
{
    public static YamlNode? Get(this YamlNode? node, params string[] path)
    {
        foreach (string key in path)
            node = node is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;
        return node;
    }

    public static string? Str(this YamlNode? node, params string[] path) => node.Get(path) is YamlScalarNode s ? s.Value : null;

    public static IEnumerable<YamlNode> Seq(this YamlNode? node, params string[] path) =>
        node.Get(path) is YamlSequenceNode s ? s.Children : [];

    public static IReadOnlyDictionary<string, string> StrMap(this YamlNode? node, params string[] path) =>
        node.Get(path) is YamlMappingNode m
            ? m.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => (kv.Value as YamlScalarNode)?.Value ?? "")
            : new Dictionary<string, string>();

    public static IReadOnlyList<string> Strs(this YamlNode? node, params string[] path) =>
        [.. node.Seq(path).OfType<YamlScalarNode>().Select(s => s.Value ?? "")];
}
