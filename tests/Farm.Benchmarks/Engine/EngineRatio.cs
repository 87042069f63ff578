using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using Farm.Actors;
using Farm.Simulation;
using Farm.Simulation.Results;

namespace Farm.Benchmarks.Engine;

/// <summary>
/// The actor engine's cost against the sequential engine's as a paired run, for a shared machine
/// where BenchmarkDotNet's means say more about the other jobs than about the engines. Pairs of
/// the same kernbench trial, one per engine, the engine that goes first alternating; each pair's
/// ratio actors/sequential of the process's CPU time and of wall time, and their medians (with a
/// bootstrap 95 % interval for the CPU median and, beside them, the ratio of the CPU times summed
/// over all pairs, and the JIT's compile time during the pairs). Both engines run in this one
/// process, so the actor system's start-up is outside the pairs. Two protocols:
/// <list type="bullet">
/// <item>`engine-ratio [PAIRS] [KERNBENCH-SCALE] [VCPUS...]` (the earlier rounds'): for each vCPU
/// count in turn (default 1, 4, 8), one warm-up pair (checking that the engines' results agree),
/// then its pairs. The JIT is still tiering the model code up during the pairs (tens of ms of a
/// trial of about 0.6 s at scale 0.01), and a count's figure depends on the counts before it.</item>
/// <item>`engine-ratio-warm [PAIRS] [KERNBENCH-SCALE] [VCPUS...]`: warm-up rounds (a pair at every
/// count, through the measured pairs' code; the first checks the results) until two whole rounds
/// in a row compile nothing (at most <see cref="MaxWarmUpRounds"/>), then the pairs in rounds over
/// the counts (a pair at 1, at 4, at 8, again): every count's pairs run on the same compiled code,
/// after the same history, over the same stretch of the host; the steady state of a worker that
/// has run a few hundred trials. A pair's ratio moves by about ±10 % on a VM whatever the engines
/// do, so use a hundred pairs or more.</item>
/// </list>
/// </summary>
internal static class EngineRatio
{
    private const int MaxWarmUpRounds = 100;
    private const int QuietRounds = 2;

    public static int Run(string[] args) => Run(args, warm: false);

    public static int RunWarm(string[] args) => Run(args, warm: true);

    private static int Run(string[] args, bool warm)
    {
        int pairs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        string scale = args.Length > 1 ? args[1] : "0.02";
        int[] vcpus = args.Length > 2 ? [.. args[2..].Select(a => int.Parse(a, CultureInfo.InvariantCulture))] : [1, 4, 8];
        var counts = vcpus.Select(n => new Count(n, scale)).ToArray();
        if (!warm)
        {
            foreach (var count in counts)
            {
                count.Check();
                for (int p = 0; p < pairs; p++) count.Pair(p);
                count.Report();
            }
            return 0;
        }
        foreach (var count in counts) count.Check();
        int rounds = 1; // the check was the first
        int quiet = 0; // rounds in a row that compiled nothing
        var watch = Stopwatch.StartNew();
        while (quiet < QuietRounds && rounds < MaxWarmUpRounds)
        {
            long before = JitInfo.GetCompiledMethodCount();
            foreach (var count in counts) count.Pair(rounds, "warm-up pair"); // the measured pairs' code, printing included
            quiet = JitInfo.GetCompiledMethodCount() == before ? quiet + 1 : 0;
            rounds++;
        }
        foreach (var count in counts) count.Reset();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"warm-up: {rounds} rounds (the check's included) of a pair at each count in {watch.Elapsed.TotalSeconds:F0} s, {(quiet == QuietRounds ? $"the last {QuietRounds} compiling nothing" : "stopped at the limit, still compiling")}"));
        for (int p = 0; p < pairs; p++)
            foreach (var count in counts) count.Pair(p);
        foreach (var count in counts) count.Report();
        return 0;
    }

    /// <summary>One vCPU count's two trials and the ratios of its measured pairs.</summary>
    private sealed class Count(int vcpus, string scale)
    {
        private readonly TrialSpec _sequential = EngineBenchmarks.KernbenchSpec(vcpus, "sequential", scale);
        private readonly TrialSpec _actors = EngineBenchmarks.KernbenchSpec(vcpus, "actors", scale);
        private readonly List<double> _cpu = [];
        private readonly List<double> _wall = [];
        private double _sequentialCpu, _actorsCpu, _jitMs;
        private long _events;

        /// <summary>One trial on each engine, outside the pairs: checks that their results agree.</summary>
        public void Check()
        {
            long allocated0 = GC.GetTotalAllocatedBytes(precise: true);
            var s0 = TrialRunner.Run(_sequential);
            long allocated1 = GC.GetTotalAllocatedBytes(precise: true);
            var a0 = TrialRunner.Run(_actors);
            long allocated2 = GC.GetTotalAllocatedBytes(precise: true);
            if (a0.Outcome != Outcome.Completed || EngineBenchmarks.Comparable(a0) != EngineBenchmarks.Comparable(s0))
                throw new InvalidOperationException($"kernbench at {vcpus} vCPUs: the engines disagree ({a0.Outcome.Name()}: {a0.Error})");
            _events = s0.Long("run.events");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"kernbench scale {scale}, {vcpus} vCPUs, warm-up pair: allocated sequential {(allocated1 - allocated0) / 1048576.0:F1} MiB, actors {(allocated2 - allocated1) / 1048576.0:F1} MiB (the whole process)"));
        }

        /// <summary>Pair <paramref name="p"/>: the engine that goes first alternates.</summary>
        public void Pair(int p, string label = "pair")
        {
            var jit = JitInfo.GetCompilationTime();
            (double Cpu, double Wall) s, a;
            if (p % 2 == 0)
            {
                s = Time(_sequential);
                a = Time(_actors);
            }
            else
            {
                a = Time(_actors);
                s = Time(_sequential);
            }
            _jitMs += (JitInfo.GetCompilationTime() - jit).TotalMilliseconds;
            _cpu.Add(a.Cpu / s.Cpu);
            _sequentialCpu += s.Cpu;
            _actorsCpu += a.Cpu;
            _wall.Add(a.Wall / s.Wall);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"kernbench scale {scale}, {vcpus} vCPUs, {label} {p + 1}: sequential {s.Cpu:F3} CPU s {s.Wall:F3} wall s, actors {a.Cpu:F3} CPU s {a.Wall:F3} wall s, ratio {a.Cpu / s.Cpu:F3} CPU {a.Wall / s.Wall:F3} wall"));
        }

        /// <summary>Forgets the pairs so far (the warm-up's).</summary>
        public void Reset()
        {
            _cpu.Clear();
            _wall.Clear();
            _sequentialCpu = _actorsCpu = _jitMs = 0;
        }

        public void Report()
        {
            var (low, high) = MedianInterval(_cpu);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"kernbench scale {scale}, {vcpus} vCPUs: {_events} MMU service steps, median ratio actors/sequential {Median(_cpu):F3} CPU (95 % interval {low:F3}-{high:F3}), {Median(_wall):F3} wall ({_cpu.Count} pairs); ratio of the CPU sums {_actorsCpu / _sequentialCpu:F3}; JIT {_jitMs:F0} ms in the pairs"));
        }
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
