using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Farm.Cluster.Protocol;
using Farm.Cluster.Serialization;
using Xunit;

namespace Farm.Cluster.Tests;

public class SerializerTests
{
    public static TheoryData<int> Indexes() => new(Enumerable.Range(0, ProtocolSamples.All.Count));

    /// <summary>Structural comparison that does not go through MessagePack (records compare lists by reference).</summary>
    private static void AssertSame(object expected, object actual)
    {
        Assert.IsType(expected.GetType(), actual);
        Assert.Equal(JsonSerializer.Serialize(expected, expected.GetType()), JsonSerializer.Serialize(actual, actual.GetType()));
    }

    [Fact]
    public void EveryProtocolType_HasAManifest_AndASample()
    {
        var types = typeof(IFarmMessage).Assembly.GetTypes()
            .Where(t => typeof(IFarmMessage).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface).ToHashSet();
        Assert.Equal(types.OrderBy(t => t.Name), FarmManifests.All.Select(m => m.Type).OrderBy(t => t.Name));
        Assert.Equal(types.OrderBy(t => t.Name), ProtocolSamples.All.Select(m => m.GetType()).Distinct().OrderBy(t => t.Name));
        Assert.All(FarmManifests.All, m => Assert.StartsWith("farm.", m.Manifest));
        Assert.Equal(FarmManifests.All.Count, FarmManifests.All.Select(m => m.Manifest).Distinct().Count());
        Assert.All(types, t => Assert.True(t.IsSealed, $"{t.Name} is sealed"));
    }

    [Theory]
    [MemberData(nameof(Indexes))]
    public void EveryMessage_RoundTripsThroughTheCodec(int index)
    {
        var message = ProtocolSamples.All[index];
        var back = FarmCodec.Deserialize(FarmCodec.Serialize(message), FarmCodec.Manifest(message));
        AssertSame(message, back);
        if (message is not (WorkItems or StatusReply or ResultsChunk or ResultsPage or SubmitSweep or TrialsFinished or TicketsReturned or Ack { Too: not null })) Assert.Equal(message, back); // flat records: value equality
        if (message is WorkItems { Tickets.Count: > 0 } w) Assert.Equal(w.Tickets, ((WorkItems)back).Tickets);
        if (message is WorkItems w2) Assert.Equal(w2.AllAcked(), ((WorkItems)back).AllAcked());
        if (message is Ack a) Assert.Equal(a.All(), ((Ack)back).All());
        if (message is TicketsReturned r)
        {
            Assert.Equal(r.Worker, ((TicketsReturned)back).Worker);
            Assert.Equal(r.Trials, ((TicketsReturned)back).Trials);
        }
        if (message is TrialsFinished b)
        {
            Assert.Equal(b.Results, ((TrialsFinished)back).Results);
            Assert.Equal(b.Next, ((TrialsFinished)back).Next);
        }
    }

    [Fact]
    public void UnknownManifest_IsASerializationException()
    {
        var bytes = FarmCodec.Serialize(new Ack(new TrialId("0123456789abcdef")));
        var e = Assert.Throws<SerializationException>(() => FarmCodec.Deserialize(bytes, "farm.no-such-message"));
        Assert.Contains("unknown manifest 'farm.no-such-message'", e.Message);
        Assert.Throws<SerializationException>(() => FarmCodec.Deserialize([0xc1, 0x00], "farm.ack")); // 0xc1: never used in MessagePack
        Assert.Throws<SerializationException>(() => FarmCodec.Serialize("a string is not a protocol message"));
    }

    [Fact]
    public void TheSerializationConfig_IsTheClusterConfigFile()
    {
        string file = File.ReadAllText(Path.Combine(RepoPaths.Root, "cluster-config", "serialization.conf"));
        Assert.Equal(file, FarmSerialization.Hocon);
        var config = FarmSerialization.Config;
        string serializer = config.GetString("akka.actor.serializers.farm-messagepack");
        Assert.Equal(typeof(FarmSerializer), Type.GetType(serializer));
        Assert.Equal("farm-messagepack", config.GetConfig("akka.actor.serialization-bindings").GetString("\"Farm.Cluster.Protocol.IFarmMessage, Farm.Cluster\""));
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender.Tell(m));
    }

    [Fact]
    public async Task EveryMessage_CrossesAnActorSystemThatSerializesEverything()
    {
        var config = ConfigurationFactory.ParseString("""
            akka.actor.serialize-messages = on
            akka.actor.serialize-creators = off
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            """).WithFallback(FarmSerialization.Config);
        using var system = ActorSystem.Create("farm-serialization-test", config);
        var echo = system.ActorOf(Props.Create(() => new Echo()), "echo");

        foreach (var message in ProtocolSamples.All)
        {
            Assert.IsType<FarmSerializer>(system.Serialization.FindSerializerFor(message));
            var back = await echo.Ask<object>(message, TimeSpan.FromMinutes(1));
            AssertSame(message, back);
            Assert.NotSame(message, back); // it really went through bytes
        }
        await system.Terminate();
    }
}
