using System.Text;
using System.Text.Json;
using Farm.Simulation.Config;

namespace Farm.Cluster.Sweeps;

/// <summary>
/// The canonical text of a sweep, which its id hashes. Keys within a mapping are sorted (their
/// order does not matter); workloads, variants, axes and axis values keep their order (it is the
/// sweep's order). Workloads enter by name and content hash, not path, so moving a checkout does
/// not change the id. The digest of the trial ids at the end makes "same sweep id" imply "same
/// trials at the same positions", whatever changes in the model or the expansion.
/// </summary>
internal static class SweepCanonical
{
    public const string Format = "farm-sweep-1";

    public static string Text(SweepSpec s)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteString("model", ConfigSchema.ModelVersion);
            w.WriteString("trial_identity", TrialIdentity.Version);
            w.WriteString("name", s.Name);
            w.WriteStartArray("workloads");
            foreach (var wl in s.Workloads)
            {
                w.WriteStartObject();
                w.WriteString("name", wl.Name);
                w.WriteString("sha256", wl.Hash);
                WriteSorted(w, "settings", wl.Settings);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            WriteSorted(w, "base", s.Base);
            w.WriteNumber("base_seed", s.BaseSeed);
            w.WriteNumber("seeds", s.Seeds);
            w.WriteStartArray("variants");
            foreach (var v in s.Variants)
            {
                w.WriteStartObject();
                w.WriteString("name", v.Name);
                WriteSorted(w, "settings", v.Settings);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("axes");
            foreach (var a in s.Axes)
            {
                w.WriteStartObject();
                w.WriteString("key", a.Key);
                w.WriteStartArray("values");
                foreach (var v in a.Values) w.WriteStringValue(v);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("baseline", s.Baseline);
            if (s.Sensitivity is { } sens) // only when present: a spec without one keeps its id
            {
                w.WriteStartObject("sensitivity");
                w.WriteStartArray("keys");
                foreach (var k in sens.Keys)
                {
                    w.WriteStartObject();
                    w.WriteString("key", k.Key);
                    w.WriteString("range", k.Range.ToString());
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteBoolean("one_at_a_time", sens.OneAtATime);
                w.WriteNumber("draws", sens.Draws);
                w.WriteStartArray("workloads");
                foreach (var n in sens.Workloads) w.WriteStringValue(n);
                w.WriteEndArray();
                w.WriteStartArray("variants");
                foreach (var n in sens.Variants) w.WriteStringValue(n);
                w.WriteEndArray();
                w.WriteNumber("seeds", sens.Seeds);
                w.WriteNumber("design_seed", sens.DesignSeed);
                w.WriteEndObject();
            }
            w.WriteNumber("trials", s.Trials.Count);
            w.WriteString("trial_ids_sha256", Hashing.Hex16(string.Join('\n', s.Trials.Select(t => t.Id.Value))));
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteSorted(Utf8JsonWriter w, string name, IReadOnlyList<Protocol.Setting> settings)
    {
        w.WriteStartObject(name);
        foreach (var s in settings.OrderBy(s => s.Key, StringComparer.Ordinal)) w.WriteString(s.Key, s.Value);
        w.WriteEndObject();
    }
}
