using System.ComponentModel;
using Farm.Simulation;
using Farm.Simulation.Config;
using Farm.Simulation.Results;
using Farm.Workloads;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Farm.Cli.Commands;

/// <summary><c>farm run WORKLOAD [--policy P] [--set k=v]... [--seed N] [--format json|table]</c></summary>
public sealed class RunCommand : Command<RunCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<WORKLOAD>")]
        [Description("Workload file (YAML), e.g. workloads/micro/pt-clear.yaml")]
        public string Workload { get; init; } = "";

        [CommandOption("--policy <POLICY>")]
        [Description("kvm-3.1 or kvm-3.3 (sets the mmu.* switches; --set overrides them)")]
        public string? Policy { get; init; }

        [CommandOption("--set <KEY=VALUE>")]
        [Description("Any configuration key, repeatable, e.g. --set vm.vcpus=4")]
        public string[] Sets { get; init; } = [];

        [CommandOption("--seed <N>")]
        public string? Seed { get; init; }

        [CommandOption("--format <FORMAT>")]
        [Description("json (the RESULTS.md object) or table")]
        [DefaultValue("table")]
        public string Format { get; init; } = "table";

        public override ValidationResult Validate() =>
            Format is "json" or "table" ? ValidationResult.Success() : ValidationResult.Error($"--format: '{Format}' is not valid; valid: json, table");
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        TrialSpec spec;
        try
        {
            var file = WorkloadFile.Load(settings.Workload);
            var overrides = new List<KeyValuePair<string, string>>();
            if (settings.Policy is not null) overrides.Add(KeyValuePair.Create("policy", settings.Policy));
            if (settings.Seed is not null) overrides.Add(KeyValuePair.Create("seed", settings.Seed));
            foreach (var set in settings.Sets)
            {
                int eq = set.IndexOf('=');
                if (eq <= 0) throw new ConfigException($"--set '{set}': expected KEY=VALUE, e.g. --set vm.vcpus=4");
                overrides.Add(KeyValuePair.Create(set[..eq].Trim(), set[(eq + 1)..]));
            }
            spec = file.ToTrial(overrides);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"farm run: {e.Message}");
            return ExitCodes.BadInput;
        }

        var result = Farm.Actors.TrialRunner.Run(spec);
        if (settings.Format == "json") Console.Out.WriteLine(result.ToJson());
        else ResultTable.Write(result);
        if (result.Outcome != "completed") Console.Error.WriteLine($"farm run: outcome {result.Outcome}: {result.Error}");
        return ExitCodes.ForOutcome(result.Outcome);
    }
}
