using System.Text;
using System.Text.Json;
using Farm.Reports.Aggregation;
using Farm.Reports.Model;
using Farm.Simulation.Results;

namespace Farm.Reports.Rendering;

/// <summary>
/// The report's data as one JSON object (format "farm-report-1"): header fields, the groups with
/// their configuration, trials and the statistics of every figure, and the failed trials.
/// Numbers are exact; a statistic that does not exist is null. See docs/reports.md.
/// </summary>
public static class JsonRenderer
{
    public const string FormatName = "farm-report-1";

    public static string Render(Report report)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("format", FormatName);
            w.WriteString("title", report.Info.Title);
            if (report.Info.SweepId is { } id) w.WriteString("sweep_id", id);
            w.WriteStartArray("model_versions");
            foreach (string v in report.ModelVersions) w.WriteStringValue(v);
            w.WriteEndArray();
            w.WriteString("baseline", report.Info.Baseline.Description);
            if (report.Info.SweepSpec is { } spec) w.WriteString("sweep_spec", spec); else w.WriteNull("sweep_spec");
            w.WriteStartObject("trials");
            w.WriteNumber("total", report.TrialCount);
            w.WriteNumber("positions", report.PositionCount);
            w.WriteNumber("completed", report.CompletedCount);
            w.WriteNumber("host_bug", report.HostBugCount);
            w.WriteNumber("error", report.ErrorCount);
            w.WriteNumber("failures_not_listed", report.Data.FailuresNotListed);
            w.WriteEndObject();

            w.WriteStartArray("workloads");
            foreach (var s in report.Sections)
            {
                w.WriteStartObject();
                w.WriteString("name", s.Workload);
                Strings(w, "axes", s.Groups.Axes);
                Strings(w, "groups", s.Groups.Groups.Select(g => g.Id));
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartArray("groups");
            foreach (var g in report.Data.Groups) Group(w, g, report.Data.Figures);
            w.WriteEndArray();

            w.WriteStartArray("gain_shares");
            foreach (var s in report.GainShares)
            {
                w.WriteStartObject();
                w.WriteString("workload", s.Workload);
                w.WriteString("point", s.Point);
                w.WriteString("fix", s.Switch);
                w.WriteString("group", s.Fix.Id);
                w.WriteString("before", s.Before.Id);
                w.WriteString("after", s.After.Id);
                Number(w, "share", s.Share);
                if (s.Sensitivity is { } f) { w.WritePropertyName("sensitivity"); Sensitivity(w, f); } else w.WriteNull("sensitivity");
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartObject("sensitivity");
            w.WriteNumber("trials", report.Sensitivity.TrialCount);
            w.WriteNumber("failed", report.Sensitivity.Failed);
            Strings(w, "keys", report.Sensitivity.Keys);
            w.WriteNumber("draws", report.Sensitivity.Draws);
            w.WriteNumber("band_coverage", Band.Coverage);
            w.WriteStartArray("changes");
            foreach (var c in report.SensitivityChanges())
            {
                w.WriteStartObject();
                w.WriteString("workload", c.Group.Workload);
                w.WriteString("group", c.Group.Id);
                w.WriteString("label", c.Group.Label);
                w.WriteString("against", c.Against.Id);
                Number(w, "change", c.Group.RatioTo(c.Against, ReportBuilder.Elapsed) - 1);
                w.WritePropertyName("sensitivity");
                Sensitivity(w, c.Change);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteStartArray("failures");
            foreach (var f in report.Failures)
            {
                w.WriteStartObject();
                w.WriteString("trial_id", f.Trial.Id);
                w.WriteString("group", f.Group.Id);
                Strings(w, "groups", f.Groups.Select(g => g.Id));
                w.WriteString("workload", f.Group.Workload);
                w.WriteNumber("seed", f.Seed);
                w.WriteString("outcome", f.Outcome.Name());
                w.WriteString("error", f.Error);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void Group(Utf8JsonWriter w, TrialGroup g, IReadOnlyList<string> figures)
    {
        w.WriteStartObject();
        w.WriteString("id", g.Id);
        w.WriteString("workload", g.Workload);
        w.WriteString("label", g.Label);
        w.WriteString("variant", g.Variant);
        if (g.VariantName is { } name) w.WriteString("variant_name", name); else w.WriteNull("variant_name");
        w.WriteString("policy", g.Policy);
        w.WriteString("model_version", g.ModelVersion);
        Pairs(w, "switches", g.Switches);
        Pairs(w, "point", g.Point);
        if (g.Baseline is { } b) w.WriteString("baseline", b.Id); else w.WriteNull("baseline");
        w.WriteNumber("completed", g.CompletedCount);
        w.WriteNumber("host_bug", g.HostBugs);
        w.WriteNumber("error", g.Errors);
        w.WriteStartArray("trials");
        foreach (var t in g.Trials)
        {
            w.WriteStartObject();
            w.WriteString("id", t.Id);
            w.WriteNumber("seed", t.Seed);
            w.WriteString("outcome", t.Outcome.Name());
            if (t.Error is { } e) w.WriteString("error", e);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNumber("trials_not_listed", g.TrialCount - g.Trials.Count);
        w.WriteStartObject("figures");
        foreach (string f in figures)
        {
            var s = g.Stat(f);
            w.WriteStartObject(f);
            w.WriteNumber("n", s.N);
            Number(w, "mean", s.Mean);
            Number(w, "sd", s.Sd);
            Number(w, "ci95_low", s.CiLow);
            Number(w, "ci95_high", s.CiHigh);
            Number(w, "min", s.Min);
            Number(w, "max", s.Max);
            Number(w, "ratio", g.Ratio(f));
            w.WriteEndObject();
        }
        w.WriteEndObject();
        Pairs(w, "config", g.Config);
        w.WriteEndObject();
    }

    /// <summary>{ seeds, at_defaults, band: {low, high, share, draws} | null, draws_run, draws: [..], one_at_a_time: [{key, low, high, at_low, at_high}] (largest swing first), top_keys }</summary>
    private static void Sensitivity(Utf8JsonWriter w, SensitivityFigure f)
    {
        w.WriteStartObject();
        w.WriteStartArray("seeds");
        foreach (long s in f.Seeds) w.WriteNumberValue(s);
        w.WriteEndArray();
        Number(w, "at_defaults", f.AtDefaults);
        if (f.Band is { } b)
        {
            w.WriteStartObject("band");
            w.WriteNumber("low", b.Low);
            w.WriteNumber("high", b.High);
            w.WriteNumber("share", b.Share);
            w.WriteNumber("draws", b.Draws);
            w.WriteEndObject();
        }
        else w.WriteNull("band");
        w.WriteNumber("draws_run", f.DrawsRun);
        w.WriteStartArray("draws");
        foreach (double v in f.DrawValues) w.WriteNumberValue(v);
        w.WriteEndArray();
        w.WriteStartArray("one_at_a_time");
        foreach (var k in f.ByImpact)
        {
            w.WriteStartObject();
            w.WriteString("key", k.Key);
            w.WriteString("low", k.LowValue);
            w.WriteString("high", k.HighValue);
            Number(w, "at_low", k.AtLow);
            Number(w, "at_high", k.AtHigh);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        Strings(w, "top_keys", f.TopKeys.Select(k => k.Key));
        w.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter w, string name, double? v)
    {
        if (v is { } x) w.WriteNumber(name, x); else w.WriteNull(name);
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (string v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    private static void Pairs(Utf8JsonWriter w, string name, IEnumerable<KeyValuePair<string, string>> pairs)
    {
        w.WriteStartObject(name);
        foreach (var (k, v) in pairs) w.WriteString(k, v);
        w.WriteEndObject();
    }
}
