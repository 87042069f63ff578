using System.Globalization;

namespace Farm.Simulation.Config;

public enum ConfigType { Bool, Int, Double, Choice, Text }

/// <summary>
/// One dotted key: its type, default, valid values and help, in one place. <see cref="Plausible"/>
/// (cost keys) is the range the default's sources allow (docs/costs.md), which sensitivity sweeps
/// draw from; it is not a validity bound (<see cref="Min"/>, <see cref="Max"/>).
/// </summary>
public sealed record ConfigKey(string Name, ConfigType Type, string Default, string Help, string[]? Choices = null, long Min = long.MinValue, long Max = long.MaxValue,
    PlausibleRange? Plausible = null)
{
    /// <summary>Normalises a user value to its canonical text, or throws <see cref="ConfigException"/> naming the key and what is valid.</summary>
    public string Normalize(string raw)
    {
        string v = raw.Trim();
        switch (Type)
        {
            case ConfigType.Bool:
                return v.ToLowerInvariant() switch
                {
                    "true" or "1" or "yes" or "on" => "true",
                    "false" or "0" or "no" or "off" => "false",
                    _ => throw new ConfigException($"{Name}: '{raw}' is not a boolean; valid: true, false"),
                };
            case ConfigType.Int:
                if (!long.TryParse(v.Replace("_", ""), NumberStyles.Integer, CultureInfo.InvariantCulture, out long n))
                    throw new ConfigException($"{Name}: '{raw}' is not an integer{Range()}");
                if (n < Min || n > Max) throw new ConfigException($"{Name}: {n} is out of range{Range()}");
                return n.ToString(CultureInfo.InvariantCulture);
            case ConfigType.Double:
                if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || !double.IsFinite(d))
                    throw new ConfigException($"{Name}: '{raw}' is not a number{Range()}");
                if (d < Min || d > Max) throw new ConfigException($"{Name}: {d} is out of range{Range()}");
                return d.ToString("R", CultureInfo.InvariantCulture);
            case ConfigType.Choice:
                if (Array.IndexOf(Choices!, v) < 0)
                    throw new ConfigException($"{Name}: '{raw}' is not valid; valid: {string.Join(", ", Choices!)}");
                return v;
            default:
                return v;
        }
    }

    private string Range() =>
        Min == long.MinValue && Max == long.MaxValue ? "" : $" (valid: {Min}..{Max})";
}

/// <summary>A configuration error: names the key and the valid choices.</summary>
public sealed class ConfigException(string message) : Exception(message);
