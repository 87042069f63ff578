using System.Text;
using Farm.Reports.Model;
using Farm.Reports.Rendering;

namespace Farm.Reports;

public enum ReportFormat
{
    Html,
    Markdown,
    Csv,
    Json,
}

/// <summary>Renders a report in one of the four formats, to a string or a file.</summary>
public static class ReportWriter
{
    /// <summary>The names the CLI and the HTTP API accept: html, md (or markdown), csv, json.</summary>
    public static readonly IReadOnlyList<string> FormatNames = ["html", "md", "csv", "json"];

    public static ReportFormat ParseFormat(string name) => name.Trim().ToLowerInvariant() switch
    {
        "html" or "htm" => ReportFormat.Html,
        "md" or "markdown" => ReportFormat.Markdown,
        "csv" => ReportFormat.Csv,
        "json" => ReportFormat.Json,
        _ => throw new ArgumentException($"report format '{name}' is not known; valid: {string.Join(", ", FormatNames)}"), // no parameter name: the message is shown to users as it is
    };

    /// <summary>The format a file name asks for by its extension, or null.</summary>
    public static ReportFormat? FormatOfPath(string path) => Path.GetExtension(path).TrimStart('.').ToLowerInvariant() switch
    {
        "html" or "htm" => ReportFormat.Html,
        "md" or "markdown" => ReportFormat.Markdown,
        "csv" => ReportFormat.Csv,
        "json" => ReportFormat.Json,
        _ => null,
    };

    public static string Extension(ReportFormat format) => format switch
    {
        ReportFormat.Html => ".html",
        ReportFormat.Markdown => ".md",
        ReportFormat.Csv => ".csv",
        _ => ".json",
    };

    /// <summary>The media type for an HTTP response.</summary>
    public static string ContentType(ReportFormat format) => format switch
    {
        ReportFormat.Html => "text/html; charset=utf-8",
        ReportFormat.Markdown => "text/markdown; charset=utf-8",
        ReportFormat.Csv => "text/csv; charset=utf-8",
        _ => "application/json; charset=utf-8",
    };

    public static string Render(Report report, ReportFormat format) => format switch
    {
        ReportFormat.Html => HtmlRenderer.Render(report),
        ReportFormat.Markdown => MarkdownRenderer.Render(report),
        ReportFormat.Csv => CsvRenderer.Render(report),
        _ => JsonRenderer.Render(report),
    };

    /// <summary>Writes the report to <paramref name="path"/> (UTF-8, no byte order mark), creating its directory.</summary>
    public static void Write(Report report, string path, ReportFormat format)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        File.WriteAllText(path, Render(report, format), new UTF8Encoding(false));
    }
}
