using Farm.Simulation.Kvm;
using Farm.Simulation.Results;
using Xunit;

namespace Farm.Reports.Tests;

/// <summary>The one catalogue of figures is exactly what a result carries, in its order.</summary>
public class FigureCatalogueTests
{
    [Fact]
    public void TheCatalogue_IsEveryFigureOfAResult_InRESULTSOrder()
    {
        // A completed trial and a host-bug trial (prefetch-drain on kvm-3.1) carry the same figures.
        var completed = Sweeps.Small.First(r => r.Outcome == Outcome.Completed);
        var bug = Sweeps.Small.First(r => r.Outcome == Outcome.HostBug);
        foreach (var r in new[] { completed, bug })
            Assert.Equal(FigureCatalogue.All.Select(f => f.Path), r.Figures().Select(f => f.Path));
        Assert.Equal(FigureCatalogue.All.Count, FigureCatalogue.All.Select(f => f.Path).Distinct().Count());
    }

    [Fact]
    public void EveryListTheReportsUse_NamesCatalogueFigures()
    {
        var paths = FigureCatalogue.All.Select(f => f.Path).ToHashSet();
        Assert.All(FigureCatalogue.Explaining, e => Assert.Contains(e.Figure.Path, paths));
        Assert.All(FigureCatalogue.ExitReasons.Concat(FigureCatalogue.ZapReasons).Concat(FigureCatalogue.WriteWidths).Concat(FigureCatalogue.WaitPercentiles),
            f => Assert.Contains(f.Path, paths));
        Assert.Equal(["page_fault", "pte_write", "unprotect", "cr3", "invlpg", "reclaim"], LockSites.All.Select(s => s.Name()));
        Assert.Equal(MmuLock.SiteCount, LockSites.All.Count);
        Assert.Equal(ReportBuilder.Elapsed, FigureCatalogue.Elapsed.Path);
    }
}
