using Farm.Cluster.Protocol;

namespace Farm.Cluster.Sweeps;

/// <summary>
/// A sweep: workloads × variants × grid axes × seeds, over a base configuration. Parsing
/// validates everything and expands every trial up front, so a spec that parses can be stored
/// without a later surprise. Format, order and ids: docs/sweeps.md.
/// </summary>
public sealed class SweepSpec
{
    public const int DefaultMaxTrials = 10_000;
    public const string DefaultBaseline = "kvm-3.1";

    /// <summary>The keys a sweep spec may have at its top level.</summary>
    public static readonly IReadOnlyList<string> TopKeys = ["name", "workload", "workloads", "base", "variants", "axes", "seeds", "baseline", "sensitivity"];

    internal SweepSpec(string name, string text, IReadOnlyList<SweepWorkload> workloads, IReadOnlyList<Setting> baseSettings, long baseSeed,
        IReadOnlyList<SweepVariant> variants, IReadOnlyList<SweepAxis> axes, int seeds, string baseline, string source, SweepSensitivity? sensitivity = null)
    {
        Sensitivity = sensitivity;
        Name = name;
        Text = text;
        Workloads = workloads;
        Base = baseSettings;
        BaseSeed = baseSeed;
        Variants = variants;
        Axes = axes;
        Seeds = seeds;
        Baseline = baseline;
        Trials = SweepExpander.Expand(this, source);
        Canonical = SweepCanonical.Text(this);
        Id = new SweepId(Hashing.Hex16(Canonical));
    }

    public string Name { get; }

    /// <summary>The spec as submitted (kept by the store for display; ids come from <see cref="Canonical"/>).</summary>
    public string Text { get; }

    public IReadOnlyList<SweepWorkload> Workloads { get; }

    /// <summary>The base keys, normalised, in the order given; <c>seed</c> is not among them (see <see cref="BaseSeed"/>).</summary>
    public IReadOnlyList<Setting> Base { get; }

    /// <summary>The first seed: <c>base.seed</c>, or 1. Trials use BaseSeed, BaseSeed+1, … BaseSeed+Seeds-1.</summary>
    public long BaseSeed { get; }

    /// <summary>Named key sets crossed with the axes; empty when the spec has no <c>variants</c>.</summary>
    public IReadOnlyList<SweepVariant> Variants { get; }

    public IReadOnlyList<SweepAxis> Axes { get; }
    public int Seeds { get; }

    /// <summary>The <c>sensitivity:</c> block, or null: its trials follow the ordinary ones (docs/sweeps.md).</summary>
    public SweepSensitivity? Sensitivity { get; }

    /// <summary>The variant, axis value or policy that reports compare against.</summary>
    public string Baseline { get; }

    /// <summary>Canonical JSON of the sweep; ends with a digest of its trial ids. <see cref="Id"/> hashes it.</summary>
    public string Canonical { get; }

    public SweepId Id { get; }

    /// <summary>Every trial, in sweep order: workload, then variant, then axes (first axis outermost), then seed; then the sensitivity's trials.</summary>
    public IReadOnlyList<SweepTrial> Trials { get; }

    /// <summary>The expanded trials in sweep order (the same list as <see cref="Trials"/>).</summary>
    public IReadOnlyList<SweepTrial> Expand() => Trials;

    /// <summary>
    /// Parses and validates a sweep spec (YAML, or JSON of the same shape) and expands it.
    /// A path found in <paramref name="workloadTexts"/> (keyed as written in the spec) uses that
    /// text; other paths are read from disk, relative ones against <paramref name="baseDir"/>, and
    /// only when <paramref name="baseDir"/> is given: without it (a remote submission) a path
    /// without its text is an error and no file is opened. Every error is a
    /// <see cref="Simulation.Config.ConfigException"/> naming <paramref name="sourceName"/>, the line when
    /// known, the key and what is valid.
    /// </summary>
    public static SweepSpec Parse(string text, string? baseDir, int maxTrials = DefaultMaxTrials, string sourceName = "sweep",
        IReadOnlyDictionary<string, string>? workloadTexts = null) =>
        new SweepSpecParser(sourceName, baseDir, workloadTexts, maxTrials).Parse(text);

    /// <summary>Reads a sweep file; workload paths resolve against the file's directory.</summary>
    public static SweepSpec Load(string path, int maxTrials = DefaultMaxTrials) =>
        Parse(Farm.Workloads.Input.InputFile.ReadText(path, "sweep file"), Path.GetDirectoryName(Path.GetFullPath(path)), maxTrials, path);

    public override string ToString() => $"{Name} ({Id}, {Trials.Count} trials)";
}
