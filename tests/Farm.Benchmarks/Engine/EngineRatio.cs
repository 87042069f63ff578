using System.Diagnostics;
using System.Globalization;
using Farm.Actors;
using Farm.Simulation;
using Farm.Simulation.Results;

namespace Farm.Benchmarks.Engine;

/// <summary>
/// `engine-ratio [PAIRS] [KERNBENCH-SCALE] [VCPUS...]`: the actor engine's cost against the
/// sequential engine's as a paired run, for a shared machine where BenchmarkDotNet's means say
/// more about the other jobs than about the engines. For each vCPU count (default 1, 4, 8) it runs
/// one warm-up trial on each engine (checking that their results agree), then PAIRS pairs of the
/// same kernbench trial, one per engine, the engine that goes first alternating, and prints each
/// pair's ratio actors/sequential of the process's CPU time and of wall time, and their medians
/// (with a bootstrap 95 % interval for the CPU median and, beside them, the ratio of the CPU times
/// summed over all pairs).
/// Both engines run in this one process, so the actor system's start-up and JIT are outside the pairs.
/// </summary>
internal static class EngineRatio
{
    public static int Run(string[] args)
    {
        int pairs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        string scale = args.Length > 1 ? args[1] : "0.02";
        int[] vcpus = args.Length > 2 ? [.. args[2..].Select(a => int.Parse(a, CultureInfo.InvariantCulture))] : [1, 4, 8];
        foreach (int n in vcpus)
        {
            var sequential = EngineBenchmarks.KernbenchSpec(n, "sequential", scale);
            var actors = EngineBenchmarks.KernbenchSpec(n, "actors", scale);
            long allocated0 = GC.GetTotalAllocatedBytes(precise: true);
            var s0 = TrialRunner.Run(sequential);
            long allocated1 = GC.GetTotalAllocatedBytes(precise: true);
            var a0 = TrialRunner.Run(actors);
            long allocated2 = GC.GetTotalAllocatedBytes(precise: true);
            if (a0.Outcome != Outcome.Completed || EngineBenchmarks.Comparable(a0) != EngineBenchmarks.Comparable(s0))
                throw new InvalidOperationException($"kernbench at {n} vCPUs: the engines disagree ({a0.Outcome.Name()}: {a0.Error})");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"kernbench scale {scale}, {n} vCPUs, warm-up pair: allocated sequential {(allocated1 - allocated0) / 1048576.0:F1} MiB, actors {(allocated2 - allocated1) / 1048576.0:F1} MiB (the whole process)"));
            var cpu = new List<double>();
            var wall = new List<double>();
            double sequentialCpu = 0, actorsCpu = 0;
            for (int p = 0; p < pairs; p++)
            {
                (double Cpu, double Wall) s, a;
                if (p % 2 == 0)
                {
                    s = Time(sequential);
                    a = Time(actors);
                }
                else
                {
                    a = Time(actors);
                    s = Time(sequential);
                }
                cpu.Add(a.Cpu / s.Cpu);
                sequentialCpu += s.Cpu;
                actorsCpu += a.Cpu;
                wall.Add(a.Wall / s.Wall);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"kernbench scale {scale}, {n} vCPUs, pair {p + 1}: sequential {s.Cpu:F3} CPU s {s.Wall:F3} wall s, actors {a.Cpu:F3} CPU s {a.Wall:F3} wall s, ratio {a.Cpu / s.Cpu:F3} CPU {a.Wall / s.Wall:F3} wall"));
            }
            var (low, high) = MedianInterval(cpu);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"kernbench scale {scale}, {n} vCPUs: {s0.Long("run.events")} MMU service steps, median ratio actors/sequential {Median(cpu):F3} CPU (95 % interval {low:F3}-{high:F3}), {Median(wall):F3} wall ({pairs} pairs); ratio of the CPU sums {actorsCpu / sequentialCpu:F3}"));
        }
        return 0;
    }

    /// <summary>CPU time of the whole process (the actor engine's threads, GC included) and wall time of one trial.</summary>
    private static (double Cpu, double Wall) Time(TrialSpec spec)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu0 = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var result = TrialRunner.Run(spec);
        double w = wall.Elapsed.TotalSeconds;
        process.Refresh();
        if (result.Outcome != Outcome.Completed) throw new InvalidOperationException($"the trial ended {result.Outcome.Name()}: {result.Error}");
        return ((process.TotalProcessorTime - cpu0).TotalSeconds, w);
    }

    /// <summary>
    /// A 95 % interval for the median pair ratio: the 2.5th and 97.5th percentiles of the medians of
    /// 2,000 resamples of the pairs (percentile bootstrap, fixed seed so a run's output is reproducible
    /// from its pairs). On a shared or virtualised host a run's median moves by ±10 % from one run to
    /// the next; the interval says how far one run's figure can be trusted.
    /// </summary>
    private static (double Low, double High) MedianInterval(List<double> ratios)
    {
        const int resamples = 2000;
        var random = new Random(18);
        var medians = new double[resamples];
        var sample = new List<double>(ratios.Count);
        for (int r = 0; r < resamples; r++)
        {
            sample.Clear();
            for (int i = 0; i < ratios.Count; i++) sample.Add(ratios[random.Next(ratios.Count)]);
            medians[r] = Median(sample);
        }
        Array.Sort(medians);
        return (medians[(int)(resamples * 0.025)], medians[(int)(resamples * 0.975) - 1]);
    }

    private static double Median(List<double> xs)
    {
        var sorted = xs.Order().ToArray();
        int m = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }
}
