using Farm.Actors;
using Farm.Cluster.Protocol;
using Farm.Cluster.Serialization;
using Xunit;

namespace Farm.Cluster.Tests;

public class ChunkingTests
{
    [Fact]
    public void TwoHundredResults_TravelInChunksUnder128KiB_InOrder()
    {
        // A real result of a 4-vCPU trial (a vcpus entry each), stamped 200 times at distinct positions.
        var spec = Specs.Parse(Specs.Small + "\nbase: { vm.vcpus: 4 }");
        string json = TrialRunner.Run(spec.Trials[0].Ticket.ToSpec()).ToJson(indented: true);
        var items = Enumerable.Range(0, 200)
            .Select(i => new SweepResultItem(i, spec.Trials[i % 4].Id, spec.Trials[i % 4].Labels, TrialStatus.Done, json, null))
            .ToList();
        Assert.True(items.Sum(FarmCodec.SizeOf) > 2 * ProtocolLimits.MaxMessageBytes, "the test needs results that do not fit one message");

        var chunks = MessageChunker.Results(spec.Id, items);
        Assert.True(chunks.Count > 2);
        Assert.All(chunks, c =>
        {
            int size = FarmCodec.Serialize(c).Length;
            Assert.True(size < ProtocolLimits.MaxMessageBytes, $"chunk {c.Index} is {size} bytes");
            Assert.True(size <= ProtocolLimits.ChunkBudgetBytes, $"chunk {c.Index} is {size} bytes, over its budget");
            Assert.Equal(chunks.Count, c.Total);
            Assert.Equal(spec.Id, c.Sweep);
        });
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Index));
        Assert.Equal(Enumerable.Range(0, 200), chunks.SelectMany(c => c.Items).Select(i => i.Position));
    }

    [Fact]
    public void NoResults_AreOneEmptyChunk()
    {
        var chunk = Assert.Single(MessageChunker.Results(new SweepId("0123456789abcdef"), []));
        Assert.Equal((0, 1, 0), (chunk.Index, chunk.Total, chunk.Items.Count));
    }

    [Fact]
    public void AnItemOverTheBudget_TravelsAlone_AndOneOverTheLimit_IsAnError()
    {
        var spec = Specs.Parse(Specs.Small);
        SweepResultItem Item(int position, int bytes) =>
            new(position, spec.Trials[0].Id, spec.Trials[0].Labels, TrialStatus.Done, new string('x', bytes), null);
        var chunks = MessageChunker.Results(spec.Id, [Item(0, 10), Item(1, 100_000), Item(2, 10)]);
        Assert.Equal([1, 1, 1], chunks.Select(c => c.Items.Count));
        var e = Assert.Throws<InvalidOperationException>(() => MessageChunker.Results(spec.Id, [Item(0, 200_000)]));
        Assert.Contains("at position 0", e.Message);
    }

    [Fact]
    public void Tickets_AreBatchedTheSameWay()
    {
        var spec = Specs.Parse("name: many\nworkload: ../micro/pt-clear.yaml\nseeds: 400\n");
        var batches = MessageChunker.Work(spec.Trials.Select(t => t.Ticket).ToList());
        Assert.True(batches.Count > 1);
        Assert.All(batches, b => Assert.True(FarmCodec.Serialize(b).Length <= ProtocolLimits.ChunkBudgetBytes));
        Assert.Equal(spec.Trials.Select(t => t.Id), batches.SelectMany(b => b.Tickets).Select(t => t.Id));
    }
}
