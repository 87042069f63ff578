using BenchmarkDotNet.Running;

namespace Farm.Benchmarks;

public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["generate-results", var db, .. var rest])
            return Cluster.ResultSetGenerator.Generate(db, rest is [var n] ? int.Parse(n, System.Globalization.CultureInfo.InvariantCulture) : 10_000);
        if (args is ["cpu-rates", .. var rates])
            return CpuRates.Run(rates);
        if (args is ["pte-write-rate", .. var pteArgs])
            return Kvm.PteWriteBenchmarks.CpuRate(pteArgs);
        if (args is ["engine-ratio-warm", .. var warm])
            return Engine.EngineRatio.RunWarm(warm);
        if (args is ["engine-ratio", .. var ratio])
            return Engine.EngineRatio.Run(ratio);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
