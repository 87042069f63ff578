using System.ComponentModel;
using Farm.Reports;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Farm.Cli.Commands;

/// <summary><c>farm report ID [-o FILE] [--format html|md|csv|json]</c>: a stored sweep's report from the coordinator.</summary>
public sealed class ReportCommand : AsyncCommand<ReportCommand.Settings>
{
    public sealed class Settings : ApiSettings
    {
        [CommandArgument(0, "<ID>")]
        public string Id { get; init; } = "";

        [CommandOption("-o|--output <FILE>")]
        [Description("Write here (the format follows the extension unless --format says otherwise)")]
        public string? Output { get; init; }

        [CommandOption("--format <FORMAT>")]
        [Description("html, md, csv or json")]
        public string? Format { get; init; }

        public override ValidationResult Validate()
        {
            if (base.Validate() is { Successful: false } api) return api;
            try
            {
                if (Format is not null) ReportWriter.ParseFormat(Format);
            }
            catch (ArgumentException e)
            {
                return ValidationResult.Error($"--format: {e.Message}");
            }
            return ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var format = settings.Format is not null ? ReportWriter.ParseFormat(settings.Format)
            : settings.Output is not null ? ReportWriter.FormatOfPath(settings.Output) ?? ReportFormat.Html
            : ReportFormat.Markdown;
        string name = ReportWriter.Extension(format).TrimStart('.');
        return await ApiSettings.Call("report", settings,
            client => client.GetAsync($"/api/sweeps/{Uri.EscapeDataString(settings.Id)}/report?format={name}", cancellationToken), settings.Output);
    }
}
