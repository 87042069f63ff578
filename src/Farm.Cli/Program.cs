using Farm.Cli.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("farm");
    config.UseStrictParsing(); // an unknown flag (a typo such as --polcy) is an error, never ignored
    // A bad flag or value is bad input (exit 2) with the message alone; anything else is a failure
    // reported in one line, never only a stack trace.
    config.SetExceptionHandler((e, _) =>
    {
        if (e is CommandAppException)
        {
            Console.Error.WriteLine($"farm: {Farm.Cli.ParseErrors.Explain(e.Message, args)}");
            return Farm.Cli.ExitCodes.BadInput;
        }
        Console.Error.WriteLine($"farm: failed: {e.Message}");
        return 1;
    });
    config.AddCommand<RunCommand>("run")
        .WithDescription("Run one trial of a workload locally and print its result.")
        .WithExample("run", "workloads/micro/pt-clear.yaml", "--policy", "kvm-3.1");
    config.AddCommand<SweepCommand>("sweep")
        .WithDescription("Run a sweep on a one-node farm in this process and write its results.")
        .WithExample("sweep", "workloads/sweeps/seed-ablation.yaml", "-o", "out");
    config.AddCommand<ServeCommand>("serve")
        .WithDescription("Run a farm cluster node (coordinator and/or worker) until SIGTERM.")
        .WithExample("serve", "--roles", "coordinator,worker", "--port", "4053");
    config.AddCommand<SubmitCommand>("submit").WithDescription("Submit a sweep to a coordinator's HTTP API.");
    config.AddCommand<StatusCommand>("status").WithDescription("Show the status and progress of one sweep, or of all.");
    config.AddCommand<ResultsCommand>("results").WithDescription("Fetch a sweep's results as JSON.");
    config.AddCommand<CancelCommand>("cancel").WithDescription("Cancel a sweep's queued trials.");
    config.AddCommand<ReportCommand>("report").WithDescription("Fetch a sweep's report (html, md, csv or json).");
    config.AddCommand<KeysCommand>("keys").WithDescription("List the configuration keys: default, plausible range (cost keys), valid values.");
});
return app.Run(args);
