using Akka.Configuration;

namespace Farm.Cluster.Serialization;

/// <summary>
/// The HOCON that binds <see cref="FarmSerializer"/> to every protocol message. The text is
/// cluster-config/serialization.conf, embedded at build time: one source for code and deployments.
/// </summary>
public static class FarmSerialization
{
    private const string Resource = "Farm.Cluster.serialization.conf";

    public static string Hocon { get; } = ReadResource();

    /// <summary>Fall back to this from a node's configuration: <c>config.WithFallback(FarmSerialization.Config)</c>.</summary>
    public static Config Config => ConfigurationFactory.ParseString(Hocon);

    private static string ReadResource()
    {
        using var stream = typeof(FarmSerialization).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"embedded resource {Resource} is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
