using Farm.Cli.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("farm");
    config.AddCommand<RunCommand>("run")
        .WithDescription("Run one trial of a workload locally and print its result.")
        .WithExample("run", "workloads/micro/pt-clear.yaml", "--policy", "kvm-3.1");
});
return app.Run(args);
