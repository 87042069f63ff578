using Farm.Simulation;
using Farm.Simulation.Config;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Workloads;
using Farm.Workloads.Input;
using YamlDotNet.RepresentationModel;

namespace Farm.Workloads;

/// <summary>
/// A workload file: <c>name</c>, <c>kind</c>, optional <c>description</c>, <c>config</c> (dotted
/// keys, the same namespace as --set) and <c>routines</c> (raw machine code replacing the
/// flavour's routine for a kernel operation). Errors name the file, the line and what is valid.
/// </summary>
public sealed record WorkloadFile(string Path, string Name, string Kind, string Description,
    IReadOnlyList<KeyValuePair<string, string>> Config, IReadOnlyDictionary<KernelOp, GuestRoutine> Routines)
{
    private static readonly string[] TopKeys = ["name", "kind", "description", "config", "routines"];

    /// <summary>Routine names in files: the kernel's own function names.</summary>
    public static readonly IReadOnlyDictionary<string, KernelOp> RoutineNames = new Dictionary<string, KernelOp>
    {
        ["clear_page"] = KernelOp.ClearPage,
        ["set_pte"] = KernelOp.SetPte,
        ["ptep_set_wrprotect"] = KernelOp.PtepSetWrprotect,
        ["ptep_get_and_clear"] = KernelOp.PtepGetAndClear,
        ["pte_clear"] = KernelOp.PteClear,
        ["copy_page"] = KernelOp.CopyPage,
        ["memset"] = KernelOp.Memset,
        ["set_pmd"] = KernelOp.SetPmd,
    };

    public static WorkloadFile Load(string path) => Parse(InputFile.ReadText(path, "workload file"), path);

    /// <summary>
    /// Parses workload file text. <paramref name="path"/> names the source in error messages and
    /// becomes <see cref="Path"/>; a cluster worker rebuilds a trial from text shipped to it, with
    /// no file of its own.
    /// </summary>
    public static WorkloadFile Parse(string text, string path)
    {
        var stream = GuardedYaml.Load(text, path);
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ConfigException($"{path}: a workload file is one YAML mapping with keys {string.Join(", ", TopKeys)}");

        string? name = null, kind = null, description = "";
        var config = new List<KeyValuePair<string, string>>();
        var routines = new Dictionary<KernelOp, GuestRoutine>();
        foreach (var (keyNode, value) in root.Children)
        {
            string key = Scalar(path, keyNode, "key");
            switch (key)
            {
                case "name":
                    name = NotNull(path, value, Scalar(path, value, "name"), "name", "the workload's name");
                    // Shown in labels, reports and `farm report` on a terminal: no line breaks or escape sequences.
                    if (name.Any(char.IsControl))
                        throw new ConfigException($"{path}:{value.Start.Line}: name holds a control character (a line break, an escape); valid: printable characters on one line");
                    break;
                case "kind": kind = NotNull(path, value, Scalar(path, value, "kind"), "kind", string.Join(", ", WorkloadRegistry.Kinds)); break;
                case "description": description = Scalar(path, value, "description"); break;
                case "config":
                    foreach (var (k, v) in Mapping(path, value, "config").Children)
                        config.Add(KeyValuePair.Create(Scalar(path, k, "config key"), Scalar(path, v, $"config value of '{k}'")));
                    break;
                case "routines":
                    foreach (var (k, v) in Mapping(path, value, "routines").Children)
                        ParseRoutine(path, Scalar(path, k, "routine name"), v, routines);
                    break;
                default:
                    throw new ConfigException($"{path}:{keyNode.Start.Line}: unknown key '{key}'; valid: {string.Join(", ", TopKeys)}");
            }
        }
        if (kind is null) throw new ConfigException($"{path}: missing 'kind'; valid: {string.Join(", ", WorkloadRegistry.Kinds)}");
        if (!WorkloadRegistry.Kinds.Contains(kind))
            throw new ConfigException($"{path}: kind '{kind}' is not known; valid: {string.Join(", ", WorkloadRegistry.Kinds)}");
        return new WorkloadFile(path, name ?? System.IO.Path.GetFileNameWithoutExtension(path), kind, description, config, routines);
    }

    private static void ParseRoutine(string path, string name, YamlNode node, Dictionary<KernelOp, GuestRoutine> into)
    {
        if (!RoutineNames.TryGetValue(name, out var op))
            throw new ConfigException($"{path}:{node.Start.Line}: unknown routine '{name}'; valid: {string.Join(", ", RoutineNames.Keys)}");
        var map = Mapping(path, node, $"routine '{name}'");
        int bits = 64;
        string? hex = null;
        foreach (var (k, v) in map.Children)
        {
            string key = Scalar(path, k, "routine key");
            switch (key)
            {
                case "bits":
                    if (!int.TryParse(Scalar(path, v, "bits"), out bits))
                        throw new ConfigException($"{path}:{v.Start.Line}: routine '{name}': bits must be 32 or 64");
                    break;
                case "bytes": hex = Scalar(path, v, "bytes"); break;
                default: throw new ConfigException($"{path}:{k.Start.Line}: routine '{name}': unknown key '{key}'; valid: bits, bytes");
            }
        }
        if (hex is null) throw new ConfigException($"{path}:{node.Start.Line}: routine '{name}' has no 'bytes'");
        try
        {
            into[op] = GuestRoutine.FromHex(name, bits, hex);
        }
        catch (FormatException e)
        {
            throw new ConfigException($"{path}:{node.Start.Line}: {e.Message}");
        }
    }

    private static string Scalar(string path, YamlNode node, string what) => node is YamlScalarNode s
        ? s.Value ?? ""
        : throw new ConfigException($"{path}:{node.Start.Line}: {what} must be a single value, not a {(node is YamlMappingNode ? "mapping" : "list")}");

    /// <summary>A name or kind written as YAML null (<c>~</c>, <c>null</c>, nothing) is an error, not the text "~".</summary>
    private static string NotNull(string path, YamlNode node, string value, string key, string valid) =>
        YamlNull.Is(node) || value.Trim().Length == 0
            ? throw new ConfigException($"{path}:{node.Start.Line}: {key} is empty or null; valid: {valid}")
            : value;

    private static YamlMappingNode Mapping(string path, YamlNode node, string what) => node as YamlMappingNode
        ?? throw new ConfigException($"{path}:{node.Start.Line}: {what} must be a mapping of key: value");

    /// <summary>The trial spec: the file's keys, then the caller's (--set) keys, resolved with the workload's schema.</summary>
    public TrialSpec ToTrial(IEnumerable<KeyValuePair<string, string>> overrides)
    {
        var workload = WorkloadRegistry.Get(Kind);
        var config = SimConfig.Resolve(Config.Concat(overrides), workload.Keys);
        PagingPairs.Check(config); // vm.paging and guest.flavour are separate keys; a mismatch fails here, before any run
        return new TrialSpec(Name, workload, config, Routines);
    }
}
