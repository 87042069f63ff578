using Farm.Cluster.Protocol;
using Farm.Simulation;
using Farm.Simulation.Config;

namespace Farm.Cluster.Sweeps;

/// <summary>Expands a sweep into trials: workload, variant, axes (first outermost), seed (innermost); then the sensitivity's trials.</summary>
internal static class SweepExpander
{
    public static IReadOnlyList<SweepTrial> Expand(SweepSpec sweep, string source)
    {
        var trials = new List<SweepTrial>();
        IReadOnlyList<SweepVariant?> variants = sweep.Variants.Count > 0 ? [.. sweep.Variants] : [null];
        foreach (var workload in sweep.Workloads)
        foreach (var variant in variants)
        foreach (var point in Grid(sweep.Axes))
        for (int i = 0; i < sweep.Seeds; i++)
            trials.Add(Trial(sweep, source, trials.Count, workload, variant, point, null, i));

        // The sensitivity's trials follow, so that adding one leaves every ordinary position as it was.
        if (sweep.Sensitivity is { } s)
        {
            IReadOnlyList<SweepVariant?> chosen = sweep.Variants.Count > 0 ? [.. sweep.Variants.Where(v => s.Variants.Contains(v.Name))] : [null];
            foreach (var workload in sweep.Workloads.Where(w => s.Workloads.Contains(w.Name)))
            foreach (var variant in chosen)
            foreach (var point in Grid(sweep.Axes))
            foreach (var sp in s.Points)
            for (int i = 0; i < s.Seeds; i++)
                trials.Add(Trial(sweep, source, trials.Count, workload, variant, point, sp, i));
        }
        return trials;
    }

    private static SweepTrial Trial(SweepSpec sweep, string source, int position, SweepWorkload workload, SweepVariant? variant,
        IReadOnlyList<Setting> point, SensitivityPoint? sensitivity, int seedIndex)
    {
        // After the workload file's own keys, later keys win: base, the workload's keys in the
        // sweep, the variant, the axes, the sensitivity's cost keys, the seed. The more specific, the later.
        var seed = new Setting("seed", (sweep.BaseSeed + seedIndex).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var overrides = sweep.Base.Concat(workload.Settings).Concat(variant?.Settings ?? []).Concat(point)
            .Concat(sensitivity?.Settings ?? []).Append(seed).ToList();
        var labels = new List<Setting> { new("workload", workload.Name) };
        if (variant is not null) labels.Add(new("variant", variant.Name));
        labels.AddRange(point);
        if (sensitivity is not null) labels.Add(new(SweepSensitivity.LabelKey, sensitivity.Label));
        labels.Add(seed);

        TrialSpec spec;
        try
        {
            spec = workload.File.ToTrial(overrides.Select(s => KeyValuePair.Create(s.Key, s.Value)));
        }
        catch (ConfigException e)
        {
            throw new ConfigException($"{source}: trial '{string.Join(' ', labels)}': {e.Message}");
        }
        var id = TrialIdentity.Compute(spec, workload.Hash);
        var ticket = TrialTicket.Of(id, spec.WorkloadName, workload.File.Kind, workload.Hash, spec.Config.Values, workload.File.Routines);
        return new SweepTrial(position, id, spec.Config.TrialId(spec.WorkloadName), workload, labels, overrides, ticket, spec);
    }

    /// <summary>Every point of the grid, first axis outermost; one empty point when there are no axes.</summary>
    private static IEnumerable<IReadOnlyList<Setting>> Grid(IReadOnlyList<SweepAxis> axes)
    {
        var index = new int[axes.Count];
        while (true)
        {
            yield return axes.Select((a, i) => new Setting(a.Key, a.Values[index[i]])).ToList();
            int d = axes.Count - 1;
            while (d >= 0 && ++index[d] == axes[d].Values.Count) index[d--] = 0;
            if (d < 0) yield break;
        }
    }
}
