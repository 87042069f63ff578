namespace Farm.Simulation.Config;

/// <summary>KEY=VALUE settings as given to --set, sweep axes and tests.</summary>
public static class KeyValueArgs
{
    public static KeyValuePair<string, string> Parse(string set)
    {
        int eq = set.IndexOf('=');
        if (eq <= 0) throw new ConfigException($"'{set}': expected KEY=VALUE, e.g. vm.vcpus=4");
        return KeyValuePair.Create(set[..eq].Trim(), set[(eq + 1)..]);
    }

    public static List<KeyValuePair<string, string>> Parse(IEnumerable<string> sets) => sets.Select(Parse).ToList();
}
