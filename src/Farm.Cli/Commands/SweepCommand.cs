using System.ComponentModel;
using Farm.Cluster.Client;
using Farm.Cluster.Hosting;
using Farm.Cluster.Protocol;
using Farm.Cluster.Sweeps;
using Farm.Simulation.Config;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Farm.Cli.Commands;

/// <summary>
/// <c>farm sweep SWEEP.yaml [-o DIR]</c>: the embedded default. Runs a one-node farm in this
/// process (coordinator and worker), submits the sweep, shows progress and writes the results.
/// The store in DIR survives: running the same sweep again reuses every finished trial.
/// </summary>
public sealed class SweepCommand : AsyncCommand<SweepCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<SWEEP>")]
        [Description("Sweep file (YAML or JSON), e.g. workloads/sweeps/seed-ablation.yaml")]
        public string Sweep { get; init; } = "";

        [CommandOption("-o|--output <DIR>")]
        [Description("Where the store (farm.db) and the results go")]
        [DefaultValue("farm-out")]
        public string Output { get; init; } = "farm-out";

        [CommandOption("--slots <N>")]
        [Description("Trials run at once (default: cores)")]
        public int? Slots { get; init; }

        public override ValidationResult Validate()
        {
            if (Slots is < 1 or > 1024) return ValidationResult.Error($"--slots: {Slots} is not valid; valid: 1..1024");
            if (File.Exists(Output)) return ValidationResult.Error($"-o: '{Output}' is a file; give a directory (it will hold farm.db, results.json and the reports)");
            // Checked before the sweep runs: found when writing, it was exit 1 ("a bug") after every trial had run.
            if (OutputFiles(Output).FirstOrDefault(Directory.Exists) is { } taken)
                return ValidationResult.Error($"-o: '{taken}' is a directory; farm sweep writes the files results.json and report.html, .md, .csv, .json in '{Output}'");
            return ValidationResult.Success();
        }
    }

    /// <summary>What farm sweep writes in its output directory besides the store.</summary>
    internal static IEnumerable<string> OutputFiles(string dir) =>
        Enum.GetValues<Farm.Reports.ReportFormat>().Select(f => ReportPath(dir, f)).Prepend(ResultsPath(dir));

    private static string ResultsPath(string dir) => Path.Combine(dir, "results.json");

    private static string ReportPath(string dir, Farm.Reports.ReportFormat format) => Path.Combine(dir, "report" + Farm.Reports.ReportWriter.Extension(format));

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        SweepSpec spec;
        try
        {
            spec = SweepSpec.Load(settings.Sweep);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"farm sweep: {e.Message}");
            return ExitCodes.BadInput;
        }

        try
        {
            Directory.CreateDirectory(settings.Output);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"farm sweep: -o: cannot create the directory '{settings.Output}': {e.Message}");
            return ExitCodes.BadInput;
        }
        var options = new NodeOptions
        {
            Port = 0,
            DatabasePath = Path.Combine(settings.Output, "farm.db"),
            Slots = settings.Slots ?? Environment.ProcessorCount,
            PollInterval = TimeSpan.FromMilliseconds(200),
            // Its node is its only worker: what a killed farm sweep left running died with it.
            ResumeGrace = TimeSpan.Zero,
            // The embedded node's progress and shutdown chatter are not the user's business: the progress bar says it.
            Logging = new NodeLogging { MinimumLevel = Microsoft.Extensions.Logging.LogLevel.Error },
        };
        FarmNode started;
        try
        {
            started = FarmNode.Start(options, Akka.Configuration.ConfigurationFactory.ParseString("akka.loglevel = ERROR"));
        }
        catch (Farm.Cluster.Store.StoreException e)
        {
            Console.Error.WriteLine($"farm sweep: {e.Message}");
            return ExitCodes.StoreUnavailable;
        }
        await using var node = started;
        var client = new FarmClient(node.System, node.Coordinator);
        var accepted = await client.Submit(spec); // parsed, validated and expanded once, above; the coordinator here stores it as it is
        if (accepted is SweepRejected rejected)
        {
            Console.Error.WriteLine($"farm sweep: {rejected.Error}");
            return ExitCodes.BadInput;
        }
        var ok = (SweepAccepted)accepted;
        Console.Error.WriteLine($"sweep {ok.Name} ({ok.Sweep}): {ok.Trials} trials, {ok.ToRun} to run, {ok.Reused} already stored");
        if (!Farm.Reports.Rendering.SvgPlots.CanDrawText) // the numbers are complete either way (README)
            Console.Error.WriteLine("farm sweep: no fonts are installed, so the report's plots will have no text (Debian: apt-get install fonts-dejavu-core)");

        var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        SweepStatus final = null!;
        await stderr.Progress().AutoClear(false).StartAsync(async progress =>
        {
            var task = progress.AddTask(ok.Name, maxValue: Math.Max(1, ok.Trials));
            final = await client.WaitForCompletion(ok.Sweep, s => task.Value = s.Done + s.Failed + s.CancelledTrials);
        });

        // One read of the results: each page goes to results.json and into the report as it comes.
        string resultsPath = ResultsPath(settings.Output);
        try
        {
            Farm.Reports.Model.Report? report;
            using (var results = new ResultsFile(resultsPath))
                report = await SweepReport.Build(client, ok.Sweep, results.Write, cancellationToken);
            foreach (var format in Enum.GetValues<Farm.Reports.ReportFormat>())
                Farm.Reports.ReportWriter.Write(report!, ReportPath(settings.Output, format), format);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) // the disk filled, a file taken meanwhile
        {
            Console.Error.WriteLine($"farm sweep: -o: cannot write the results in '{settings.Output}': {e.Message}; "
                + "the trials are stored in its farm.db: running the same sweep again writes them without running anything");
            return ExitCodes.BadInput;
        }
        Console.Out.WriteLine($"{final.Done} done, {final.Failed} failed, {final.CancelledTrials} cancelled; results: {resultsPath}");
        Console.Out.WriteLine($"report: {Path.Combine(settings.Output, "report.html")} (and .md, .csv, .json)");
        return final.Failed > 0 ? ExitCodes.TrialError : ExitCodes.Completed;
    }
}
