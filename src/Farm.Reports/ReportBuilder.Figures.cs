using Farm.Simulation.Kvm;
using Farm.Simulation.Results;

namespace Farm.Reports;

/// <summary>The figures the tables and plots show, as views of the one catalogue (<see cref="FigureCatalogue"/>).</summary>
public static partial class ReportBuilder
{
    /// <summary>Elapsed time (<see cref="FigureCatalogue.Elapsed"/>): what before/after tables and plots compare.</summary>
    public const string Elapsed = "time.elapsed_seconds";

    /// <summary>The figures under a cover letter's timing that explain the difference (means over completed runs).</summary>
    public static readonly IReadOnlyList<(string Label, string Figure)> Explaining =
        FigureCatalogue.Explaining.Select(e => (e.Label, e.Figure.Path)).ToList();

    internal static readonly (string Name, string Figure)[] ExitReasons = Series(FigureCatalogue.ExitReasons);
    private static readonly (string Name, string Figure)[] EmulationKinds = Series(FigureCatalogue.EmulationKinds);
    private static readonly (string Name, string Figure)[] WriteWidths = Series(FigureCatalogue.WriteWidths);
    internal static readonly (string Name, string Figure)[] ZapReasons = Series(FigureCatalogue.ZapReasons);
    private static readonly (string Name, string Figure)[] LockAcquisitionsBySite = Series(LockSites.All.Select(s => FigureCatalogue.BySite(s, "acquisitions")));
    private static readonly (string Name, string Figure)[] LockWaitBySite = Series(LockSites.All.Select(s => FigureCatalogue.BySite(s, "wait_cycles")));
    private static readonly (string Name, string Figure)[] WaitPercentiles = Series(FigureCatalogue.WaitPercentiles);

    private static (string Name, string Figure)[] Series(IEnumerable<Figure> figures) => figures.Select(f => (f.Name, f.Path)).ToArray();
}
