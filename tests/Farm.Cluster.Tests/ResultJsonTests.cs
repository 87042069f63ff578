using System.Text.Json;
using System.Text.Json.Nodes;
using Farm.Actors;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>A worker writes a result's JSON without copying it first: the text is the copy's, byte for byte.</summary>
public class ResultJsonTests
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions RelaxedIndented = new(Relaxed) { WriteIndented = true };

    [Theory]
    [InlineData("../micro/pt-clear.yaml", "kvm-3.1")]
    [InlineData("../micro/prefetch-drain.yaml", "kvm-3.3")]
    [InlineData("../micro/wrprotect.yaml", "tdp")]
    public void ToJson_IsTheTextOfACopy(string workload, string policy)
    {
        var trial = Specs.Parse($"name: json\nworkload: {workload}\nbase: {{ policy: {policy}, engine: sequential }}\n").Trials[0];
        var result = TrialRunner.Run(trial.Spec);
        // What ToJson wrote before: the result serialised, parsed again and written with the relaxed encoder.
        var copy = JsonNode.Parse(result.Root.ToJsonString())!;
        Assert.Equal(copy.ToJsonString(Relaxed), result.ToJson(indented: false));
        Assert.Equal(copy.ToJsonString(RelaxedIndented), result.ToJson());
    }
}
