using Xunit;

namespace Farm.Cli.Tests;

/// <summary>farm serve refuses bad node settings with a message naming the flag and what is valid.</summary>
public class ServeCommandTests
{
    [Theory]
    [InlineData("--discovery", "dns", "valid: none, config, kubernetes")]
    [InlineData("--discovery", "config", "needs --contact-points")]
    [InlineData("--management-port", "70000", "--management-port: 70000 is not valid")]
    [InlineData("--required-contact-points", "0", "--required-contact-points: 0 is not valid")]
    [InlineData("--service-name", "Farm_Nodes", "valid: a DNS label")]
    [InlineData("--roles", "scheduler", "valid: coordinator, worker")]
    public void BadSettings_ExitWithBadInput(string flag, string value, string message)
    {
        var (code, _, err) = FarmProcess.Run("serve", "--port", "0", "--http", "off", flag, value);
        Assert.Equal(2, code);
        Assert.Contains(message, err);
        Assert.DoesNotContain("   at ", err); // a message, not a stack trace
    }

    [Fact]
    public void ContactPointsWithoutAPort_AreRefused()
    {
        var (code, _, err) = FarmProcess.Run("serve", "--port", "0", "--http", "off", "--discovery", "config", "--contact-points", "127.0.0.1");
        Assert.Equal(2, code);
        Assert.Contains("--contact-points: '127.0.0.1' is not valid; valid: host:port", err);
    }

    [Fact]
    public void SeedsAndBootstrapTogether_AreRefused()
    {
        var (code, _, err) = FarmProcess.Run("serve", "--port", "0", "--http", "off", "--discovery", "kubernetes", "--seed-nodes", "akka.tcp://farm@127.0.0.1:4053");
        Assert.Equal(2, code);
        Assert.Contains("--seed-nodes cannot be combined with --discovery kubernetes", err);
    }

    [Fact]
    public void AManagementPortInUse_ExitsWithNodeFailure_NamingThePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            var (code, _, err) = FarmProcess.Run("serve", "--port", "0", "--http", "off", "--discovery", "config",
                "--contact-points", $"127.0.0.1:{port}", "--management-port", $"{port}");
            Assert.Equal(5, code);
            Assert.Contains($"management port {port}", err);
            Assert.DoesNotContain("   at ", err);
        }
        finally
        {
            listener.Stop();
        }
    }
}
