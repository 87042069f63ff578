using Xunit;

namespace Farm.Actors.Tests;

public class ContentionTests
{
    [Fact]
    public void MoreVcpus_WaitLongerPerAcquisition()
    {
        double previous = -1;
        foreach (int vcpus in new[] { 1, 2, 4, 8 })
        {
            var r = EngineEquivalenceTests.Run("pt-clear", "actors", "policy=kvm-3.1", $"vm.vcpus={vcpus}");
            double perAcquisition = (double)r.Long("mmu_lock.wait_cycles") / r.Long("mmu_lock.acquisitions");
            Assert.True(perAcquisition > previous, $"{vcpus} vCPUs: {perAcquisition} cycles/acquisition, not above {previous}");
            previous = perAcquisition;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Kvm33_ReducesAcquisitionsOnRepStos(int vcpus)
    {
        var before = EngineEquivalenceTests.Run("pt-clear", "actors", "policy=kvm-3.1", $"vm.vcpus={vcpus}");
        var after = EngineEquivalenceTests.Run("pt-clear", "actors", "policy=kvm-3.3", $"vm.vcpus={vcpus}");
        Assert.True(after.Long("mmu_lock.acquisitions") < before.Long("mmu_lock.acquisitions"));
        Assert.True(after.Long("mmu_lock.wait_cycles") <= before.Long("mmu_lock.wait_cycles"));
    }
}
