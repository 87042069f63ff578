using System.Globalization;

namespace Farm.Simulation.GuestCode;

/// <summary>
/// Position-independent guest machine code for one kernel operation: built with Iced's
/// assembler at origin 0 (relative branches only) or given as raw bytes, e.g. from a workload file.
/// </summary>
public sealed record GuestRoutine(string Name, int Bitness, byte[] Bytes)
{
    /// <summary>Parses hex bytes ("f3 48 ab c3", "f348abc3" or "0xf3,0x48,..."); errors name what is wrong.</summary>
    public static GuestRoutine FromHex(string name, int bitness, string hex)
    {
        if (bitness is not (32 or 64))
            throw new FormatException($"routine '{name}': bitness must be 32 or 64, not {bitness}");
        var digits = new System.Text.StringBuilder();
        foreach (var token in hex.Split([' ', ',', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            string t = token.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? token[2..] : token;
            if (token.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && t.Length == 1) t = "0" + t;
            digits.Append(t);
        }
        string all = digits.ToString();
        if (all.Length == 0) throw new FormatException($"routine '{name}': no bytes given");
        if (all.Length % 2 != 0) throw new FormatException($"routine '{name}': odd number of hex digits ({all.Length})");
        var bytes = new byte[all.Length / 2];
        for (int i = 0; i < bytes.Length; i++)
        {
            if (!byte.TryParse(all.AsSpan(2 * i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out bytes[i]))
                throw new FormatException($"routine '{name}': '{all.Substring(2 * i, 2)}' at byte {i} is not hex");
        }
        return new GuestRoutine(name, bitness, bytes);
    }
}
