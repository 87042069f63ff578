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
        [Description("kvm-3.1, kvm-3.3 or tdp (sets the mmu.* switches; --set overrides them; tdp: EPT/NPT, docs/tdp.md); a comma list compares policies")]
        public string? Policy { get; init; }

        [CommandOption("--seeds <N>")]
        [Description("Run N seeds (seed, seed+1, ...) per policy and print a before/after comparison")]
        public int? Seeds { get; init; }

        [CommandOption("--set <KEY=VALUE>")]
        [Description("Any configuration key, repeatable, e.g. --set vm.vcpus=4")]
        public string[] Sets { get; init; } = [];

        [CommandOption("--seed <N>")]
        public string? Seed { get; init; }

        [CommandOption("--format <FORMAT>")]
        [Description("json (the RESULTS.md object) or table")]
        [DefaultValue("table")]
        public string Format { get; init; } = "table";

        public override ValidationResult Validate()
        {
            if (Format is not ("json" or "table")) return ValidationResult.Error($"--format: '{Format}' is not valid; valid: json, table");
            if (Seeds is < 1 or > 1000) return ValidationResult.Error($"--seeds: {Seeds} is not valid; valid: 1..1000");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        List<TrialSpec> specs;
        try
        {
            specs = Expand(settings);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"farm run: {e.Message}");
            return ExitCodes.BadInput;
        }

        if (specs.Count == 1)
        {
            var result = Farm.Actors.TrialRunner.Run(specs[0]);
            if (settings.Format == "json") Console.Out.WriteLine(result.ToJson());
            else ResultTable.Write(result);
            if (result.Outcome != Outcome.Completed) Console.Error.WriteLine($"farm run: outcome {result.Outcome.Name()}: {result.Error}");
            return ExitCodes.ForOutcome(result.Outcome);
        }

        var results = new List<TrialResult>();
        // Progress goes to standard error: standard output carries the results.
        var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        stderr.Progress().AutoClear(true).Start(progress =>
        {
            var task = progress.AddTask($"{specs.Count} trials", maxValue: specs.Count);
            foreach (var spec in specs)
            {
                results.Add(Farm.Actors.TrialRunner.Run(spec));
                task.Increment(1);
            }
        });
        if (settings.Format == "json") Console.Out.WriteLine("[" + string.Join(",\n", results.Select(r => r.ToJson())) + "]");
        else ComparisonConsole.Write(Farm.Reports.ComparisonTable.Of(results));
        var worst = results.Select(r => ExitCodes.ForOutcome(r.Outcome)).Max();
        return worst;
    }

    /// <summary>One trial per (policy, seed): policies from a comma list, seeds from --seed onwards.</summary>
    private static List<TrialSpec> Expand(Settings settings)
    {
        var file = WorkloadFile.Load(settings.Workload);
        var sets = KeyValueArgs.Parse(settings.Sets);
        var policies = settings.Policy?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (settings.Policy is not null && policies.Length == 0) throw new ConfigException("--policy: give at least one of kvm-3.1, kvm-3.3, tdp");
        var specs = new List<TrialSpec>();
        foreach (var policy in policies.Length == 0 ? [null] : policies.Cast<string?>())
        {
            var first = file.ToTrial(With(sets, policy, settings.Seed));
            long seed = first.Config.Int("seed");
            int count = settings.Seeds ?? 1;
            if (seed > long.MaxValue - (count - 1)) // seed + i would wrap to a negative seed
                throw new ConfigException($"--seed {seed} with --seeds {count} goes past the largest seed; valid: 0..{long.MaxValue - (count - 1)}");
            for (int i = 0; i < count; i++)
                specs.Add(i == 0 ? first : file.ToTrial(With(sets, policy, (seed + i).ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }
        return specs;
    }

    private static List<KeyValuePair<string, string>> With(List<KeyValuePair<string, string>> sets, string? policy, string? seed)
    {
        var all = new List<KeyValuePair<string, string>>();
        if (policy is not null) all.Add(KeyValuePair.Create("policy", policy));
        if (seed is not null) all.Add(KeyValuePair.Create("seed", seed));
        all.AddRange(sets);
        return all;
    }
}
