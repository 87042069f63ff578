using System.ComponentModel;
using Farm.Simulation.Config;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Farm.Cli.Commands;

/// <summary>
/// <c>farm keys [PREFIX]</c>: every configuration key with its default, what it accepts and, for
/// cost keys, the plausible range its sources allow (docs/costs.md), which sensitivity sweeps use.
/// </summary>
public sealed class KeysCommand : Command<KeysCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[PREFIX]")]
        [Description("Only keys that start with this, e.g. cost.")]
        public string? Prefix { get; init; }

        public override ValidationResult Validate() =>
            Prefix is null || ConfigSchema.Keys.Any(k => k.Name.StartsWith(Prefix, StringComparison.Ordinal))
                ? ValidationResult.Success()
                : ValidationResult.Error($"no key starts with '{Prefix}'; prefixes: {string.Join(", ", ConfigSchema.Keys.Select(k => k.Name.Contains('.') ? k.Name[..(k.Name.IndexOf('.') + 1)] : k.Name).Distinct())}");
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        // Plain aligned text, not a console table: it is read in pipes and narrow terminals alike.
        var rows = ConfigSchema.Keys.Where(k => settings.Prefix is null || k.Name.StartsWith(settings.Prefix, StringComparison.Ordinal))
            .Select(k => new[] { k.Name, k.Default, k.Plausible?.ToString() ?? "", Accepts(k), k.Help }).Prepend(["key", "default", "plausible range", "accepts", "what"]).ToList();
        var widths = Enumerable.Range(0, 4).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var r in rows)
            Console.WriteLine(string.Join("  ", r.Take(4).Select((c, i) => c.PadRight(widths[i]))) + "  " + r[4]);
        Console.WriteLine();
        Console.WriteLine("Plausible range: where a cost's sources put it (docs/costs.md); sensitivity sweeps vary it there (docs/sweeps.md).");
        return ExitCodes.Completed;
    }

    private static string Accepts(ConfigKey k) => k.Type switch
    {
        ConfigType.Bool => "true, false",
        ConfigType.Choice => string.Join(", ", k.Choices!),
        ConfigType.Int or ConfigType.Double => $"{(k.Type == ConfigType.Int ? "integer" : "number")}" +
            (k.Min == long.MinValue && k.Max == long.MaxValue ? "" : $" {(k.Min == long.MinValue ? "" : k.Min)}..{(k.Max == long.MaxValue ? "" : k.Max)}"),
        _ => "text",
    };
}
