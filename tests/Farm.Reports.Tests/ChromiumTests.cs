using System.Diagnostics;
using AngleSharp.Html.Parser;
using Farm.Reports.Model;
using Farm.Reports.Rendering;
using Xunit;
using Xunit.Abstractions;

namespace Farm.Reports.Tests;

/// <summary>
/// Opens the HTML report in headless Chromium (Debian's chromium; build/test installs it): the DOM
/// it builds holds every table and plot, the page logs nothing to the console, and a screenshot
/// is taken. Chromium missing is a failure with instructions, never a skip.
/// </summary>
public class ChromiumTests(ITestOutputHelper output)
{
    private static readonly string Chromium = Environment.GetEnvironmentVariable("FARM_CHROMIUM") ?? "/usr/bin/chromium";

    /// <summary>Where the screenshot of the test sweep's report is left (tests/Farm.Reports.Tests/bin/.../report-screenshot.png).</summary>
    public static string ScreenshotPath => Path.Combine(AppContext.BaseDirectory, "report-screenshot.png");

    [Fact]
    public void Report_OpensInHeadlessChromium_WithEveryTableAndPlot_AndNoConsoleMessage()
    {
        RequireChromium();
        var report = ReportBuilder.Build(Sweeps.Small, new ReportInfo { Title = "Reports test sweep", SweepSpec = Sweeps.Spec, SweepId = "test-sweep" });
        string dir = RepoPaths.TempDir("chromium");
        string page = Path.Combine(dir, "report.html");
        ReportWriter.Write(report, page, ReportFormat.Html);

        var (dom, domLog) = RunChromium(dir, "--dump-dom", new Uri(page).AbsoluteUri);
        var doc = new HtmlParser().ParseDocument(dom);
        Assert.Empty(doc.QuerySelectorAll("script"));
        foreach (var table in report.Tables())
        {
            var element = doc.GetElementById(table.Id);
            Assert.True(element is { LocalName: "table" }, $"the DOM has no table #{table.Id}");
            Assert.Equal(table.Kind, element!.GetAttribute("data-table"));
            Assert.Equal(table.Rows.Count, element.QuerySelectorAll("tbody tr").Length);
        }
        foreach (var plot in report.Plots())
        {
            var figure = doc.GetElementById(plot.Id);
            Assert.True(figure is { LocalName: "figure" }, $"the DOM has no plot #{plot.Id}");
            Assert.Equal(plot.Kind, figure!.GetAttribute("data-plot"));
            if (plot.HasData)
                Assert.True(figure.QuerySelector($"svg[data-plot-svg='{plot.Id}']") is { } svg && svg.QuerySelectorAll("rect, path").Length > 5,
                    $"plot #{plot.Id} has no drawing in the DOM");
        }
        Assert.Contains("has-failures", doc.GetElementById("failures")!.ClassList);
        Assert.Equal(Sweeps.Spec, doc.GetElementById("sweep-spec")!.TextContent);
        AssertNoConsoleMessages(domLog);

        string png = Path.Combine(dir, "report.png");
        var (_, shotLog) = RunChromium(dir, $"--screenshot={png}", "--window-size=1400,3000", new Uri(page).AbsoluteUri);
        AssertNoConsoleMessages(shotLog);
        Assert.True(File.Exists(png), $"no screenshot at {png}\n{shotLog}");
        byte[] bytes = File.ReadAllBytes(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        Assert.True(bytes.Length > 50_000, $"the screenshot is only {bytes.Length} bytes: a blank page?");
        File.Copy(png, ScreenshotPath, overwrite: true);
        output.WriteLine($"screenshot: {ScreenshotPath}");
    }

    [Fact]
    public void ConsoleCheck_SeesConsoleMessages()
    {
        // the check must be able to fail: a page with a broken SVG attribute and a script error
        RequireChromium();
        string dir = RepoPaths.TempDir("chromium-negative");
        string page = Path.Combine(dir, "bad.html");
        File.WriteAllText(page, "<!DOCTYPE html><html><body><svg><rect width=\"-5\" height=\"1\"/></svg><script>undefinedFunction();</script></body></html>");
        var (_, log) = RunChromium(dir, "--dump-dom", new Uri(page).AbsoluteUri);
        Assert.Contains(":CONSOLE", log);
        Assert.Contains("Uncaught ReferenceError", log);
    }

    private static void RequireChromium()
    {
        if (!File.Exists(Chromium))
            Assert.Fail($"Chromium is not installed at {Chromium}: the HTML report is checked in headless Chromium. " +
                        "Install Debian's package (apt-get install -y chromium; build/test does it), or set FARM_CHROMIUM to a chromium binary.");
    }

    private static void AssertNoConsoleMessages(string log)
    {
        var console = log.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal) || l.Contains("Uncaught", StringComparison.Ordinal)).ToList();
        Assert.True(console.Count == 0, "the page wrote to the console:\n" + string.Join("\n", console));
    }

    /// <summary>Runs headless Chromium with a fresh profile and no network services; returns stdout and stderr.</summary>
    private (string Stdout, string Stderr) RunChromium(string dir, params string[] args)
    {
        var psi = new ProcessStartInfo(Chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string profile = Path.Combine(dir, "profile-" + Guid.NewGuid().ToString("N")[..8]);
        foreach (string a in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                 }.Concat(args))
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {Chromium}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10))) // bounds a hang, not the work
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"chromium {string.Join(' ', args)} did not finish in 10 minutes");
        }
        process.WaitForExit();
        output.WriteLine($"chromium {string.Join(' ', args)}: exit {process.ExitCode}");
        Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}:\n{stderr.Result}");
        return (stdout.Result, stderr.Result);
    }
}
