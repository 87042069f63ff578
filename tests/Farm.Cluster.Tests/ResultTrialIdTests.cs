using Farm.Cluster.Store;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>The store reads a result's trial.id with a reader, not a document; the whole text must still be JSON.</summary>
public class ResultTrialIdTests
{
    [Theory]
    [InlineData("""{"trial":{"id":"abc","workload":"w"},"outcome":"completed"}""", "abc")]
    [InlineData("""{"outcome":"completed","vcpus":[{"id":"not-this"}],"trial":{"seed":1,"nested":{"id":"nor-this"},"id":"abc"}}""", "abc")]
    [InlineData("""{"tri\u0061l":{"\u0069d":"abc"}}""", "abc")]   // escaped names are the same names
    [InlineData("""{"run":{"id":"x"},"trial":{"name":"t"}}""", null)] // no trial.id
    [InlineData("""{"trial":{"id":7}}""", null)]                     // not a string
    [InlineData("""{"trial":"abc"}""", null)]                        // not an object
    [InlineData("""[{"trial":{"id":"abc"}}]""", null)]               // not an object at the top
    [InlineData("""{"trial":{"id":"abc"}""", null)]                  // cut short: not JSON
    [InlineData("""{"trial":{"id":"abc"}} trailing""", null)]        // more than one value
    [InlineData("""{"trial":{"id":"abc"},"x":[1,}""", null)]         // broken after the id
    public void TheTrialId_OfAResultText(string json, string? expected) =>
        Assert.Equal(expected, ResultStore.ResultTrialId(json));
}
