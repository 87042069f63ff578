using Farm.Cluster.Http;
using Farm.Simulation.Config;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>The listen list and the bearer token (issue 16 items 2 and 10).</summary>
public class HttpSecurityTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8770", true)]
    [InlineData("http://localhost:8770/", true)]
    [InlineData("http://[::1]:8770", true)]
    [InlineData("http://127.0.0.2:8770", true)]
    [InlineData("http://localhost:28790/;http://127.0.0.1:28791", true)]
    [InlineData("http://localhost:28790/;http://0.0.0.0:28791", false)] // the bypass: only the first entry was checked
    [InlineData("http://127.0.0.1:1; http://[::]:2", false)]
    [InlineData("http://*:8770", false)]
    [InlineData("http://+:8770", false)]
    [InlineData("http://farm.example:8770", false)] // Kestrel binds a host name other than localhost to every interface
    [InlineData("http://192.168.1.5:8770", false)]
    public void EveryEntryOfTheListenList_IsChecked(string list, bool loopback)
    {
        Assert.Equal(loopback, ListenUrls.Parse(list).IsLoopback);
        var options = new HttpApiOptions { Url = list };
        if (loopback)
        {
            options.Validate();
            return;
        }
        var e = Assert.Throws<ConfigException>(options.Validate);
        Assert.Contains("is not a loopback address; give a bearer token", e.Message);
        new HttpApiOptions { Url = list, Token = "t0ken" }.Validate();
    }

    [Theory]
    [InlineData("http://127.0.0.1:8770;", "an empty entry")]
    [InlineData("127.0.0.1:8770", "'127.0.0.1:8770'")]
    [InlineData("ftp://127.0.0.1:21", "'ftp://127.0.0.1:21'")]
    [InlineData("http://127.0.0.1:8770/api", "no path")]
    public void AMalformedEntry_IsRefused(string list, string message)
    {
        var e = Assert.Throws<ConfigException>(() => ListenUrls.Parse(list));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("--http: ", e.Message);
    }

    [Theory]
    [InlineData("Bearer s3cret", true)]
    [InlineData("Bearer s3cre", false)]
    [InlineData("Bearer s3cret ", false)]
    [InlineData("Bearer s3cretX", false)]
    [InlineData("bearer s3cret", true)] // the scheme is case-insensitive (RFC 7235 2.1)
    [InlineData("BEARER s3cret", true)]
    [InlineData("Bearer S3CRET", false)] // the token is not
    [InlineData("Bearer  s3cret", false)]
    [InlineData("s3cret", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void TheTokenMatchesExactly(string? header, bool matches) =>
        Assert.Equal(matches, BearerToken.Matches(header, "s3cret"));

    [Fact]
    public void TheTokenIsReadFromAFile_TrimmedOfItsNewline()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "from-a-file\n");
            Assert.Equal("from-a-file", BearerToken.Resolve(null, file));
            Assert.Equal("flag", BearerToken.Resolve("flag", null));
            Assert.Contains("give one, not both", Assert.Throws<ConfigException>(() => BearerToken.Resolve("flag", file)).Message);
            File.WriteAllText(file, "two words\n");
            Assert.Contains("is not valid", Assert.Throws<ConfigException>(() => BearerToken.Resolve(null, file)).Message);
            Assert.Contains("does not exist", Assert.Throws<ConfigException>(() => BearerToken.Resolve(null, file + ".none")).Message);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
