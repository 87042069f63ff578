using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Configuration;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Farm.Actors;
using Farm.Cluster.Sweeps;
using Farm.Cluster.Serialization;
using Microsoft.Extensions.Logging;

namespace Farm.Benchmarks.Cluster;

/// <summary>What the farm benchmarks share: sweep texts over the repository's micro workloads, actor systems, result JSON.</summary>
internal static class FarmBench
{
    public static string Repo { get; } = FindRepo();

    /// <summary>A sweep of <paramref name="trials"/> seeds from <paramref name="firstSeed"/> (new trials each time: done ones are never run again).</summary>
    public static SweepSpec Sweep(string workload, string settings, int firstSeed, int trials)
    {
        string path = Path.Combine(Repo, "workloads", "micro", workload);
        return SweepSpec.Parse($"name: bench\nworkload: {path}\nbase: {{ {settings}, seed: {firstSeed} }}\nseeds: {trials}\n",
            Path.GetDirectoryName(path), maxTrials: trials);
    }

    /// <summary>
    /// An actor system; with <paramref name="remote"/>, on a loopback port of its own with the farm's serializer (as a node).
    /// The scheduler ticks as a farm node's does (Farm.Cluster's NodeAkka: 100 ms, not Akka's 10 ms), so that the
    /// idle wake-ups the process CPU includes are a node's.
    /// </summary>
    public static ActorSystem NewSystem(string name, bool remote) => ActorSystem.Create(name, ConfigurationFactory.ParseString(remote
        ? """
          akka.loglevel = ERROR
          akka.scheduler.tick-duration = 100ms
          akka.actor.provider = remote
          akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
          """
        : """
          akka.loglevel = ERROR
          akka.scheduler.tick-duration = 100ms
          """).WithFallback(FarmSerialization.Config));

    /// <summary>A real result of the sweep's first trial, re-labelled with each trial's configuration id: real sizes, one run.</summary>
    public static Dictionary<Farm.Cluster.Protocol.TrialId, string> Results(SweepSpec spec, string template)
    {
        var results = new Dictionary<Farm.Cluster.Protocol.TrialId, string>();
        foreach (var trial in spec.Trials)
        {
            var json = JsonNode.Parse(template)!;
            json["trial"]!["id"] = trial.ConfigId;
            json["trial"]!["seed"] = trial.Seed;
            results[trial.Id] = json.ToJsonString();
        }
        return results;
    }

    public static string Template(SweepSpec spec) => TrialRunner.Run(spec.Trials[0].Spec).ToJson(indented: false);

    /// <summary>
    /// The coordinator's event log as <c>farm serve</c> has it at Information (every event formatted, its
    /// store reads for the sweep fields included), written nowhere; completes a task when a sweep is done.
    /// </summary>
    public sealed class Events : ILogger
    {
        private TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Done => _done.Task;

        public void Reset() => _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            _ = formatter(state, exception);
            if (eventId.Id == 1005) _done.TrySetResult(); // SweepDone
        }
    }

    /// <summary>
    /// In process (no generated project to build: on a loaded 2-core machine its build outlasts BenchmarkDotNet's
    /// 2-minute timeout), one invocation an iteration (each is a sweep; setup makes a new one).
    /// </summary>
    public abstract class Config : ManualConfig
    {
        protected Config(int warmup, int iterations) => AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1).WithWarmupCount(warmup).WithIterationCount(iterations)
            .WithInvocationCount(1).WithUnrollFactor(1))
            .AddColumn(new CpuColumn());
    }

    /// <summary>Runs <paramref name="sweep"/> and records the process's CPU time a trial under <paramref name="key"/>.</summary>
    public static async Task Measured(string key, int trials, Func<Task> sweep)
    {
        var before = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        await sweep();
        CpuColumn.Record(key, System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - before, trials);
    }

    /// <summary>
    /// The process's CPU time a trial, per benchmark case (recorded by the benchmark around each sweep; the
    /// toolchain is in-process, so this column reads what the benchmark recorded). CPU time, not wall:
    /// on a machine shared with other work, wall time a trial measures the machine as much as the farm.
    /// </summary>
    public sealed class CpuColumn : BenchmarkDotNet.Columns.IColumn
    {
        private static readonly Dictionary<string, List<double>> Recorded = [];

        /// <summary>Records one sweep of <paramref name="trials"/> that took <paramref name="cpu"/> of the process's CPU.</summary>
        public static void Record(string key, TimeSpan cpu, int trials)
        {
            lock (Recorded)
            {
                if (!Recorded.TryGetValue(key, out var list)) Recorded[key] = list = [];
                list.Add(cpu.TotalMilliseconds / trials);
            }
        }

        public string Id => nameof(CpuColumn);
        public string ColumnName => "CPU ms/trial";
        public bool AlwaysShow => true;
        public BenchmarkDotNet.Columns.ColumnCategory Category => BenchmarkDotNet.Columns.ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public BenchmarkDotNet.Columns.UnitType UnitType => BenchmarkDotNet.Columns.UnitType.Dimensionless;
        public string Legend => "The process's CPU time (all threads) a trial, median over the measured sweeps (warm-up sweeps left out)";
        public bool IsAvailable(BenchmarkDotNet.Reports.Summary summary) => true;
        public bool IsDefault(BenchmarkDotNet.Reports.Summary summary, BenchmarkDotNet.Running.BenchmarkCase benchmarkCase) => false;
        public string GetValue(BenchmarkDotNet.Reports.Summary summary, BenchmarkDotNet.Running.BenchmarkCase benchmarkCase) =>
            GetValue(summary, benchmarkCase, BenchmarkDotNet.Reports.SummaryStyle.Default);

        public string GetValue(BenchmarkDotNet.Reports.Summary summary, BenchmarkDotNet.Running.BenchmarkCase benchmarkCase, BenchmarkDotNet.Reports.SummaryStyle style)
        {
            int measured = summary[benchmarkCase]?.AllMeasurements.Count(m => m.IterationMode == BenchmarkDotNet.Engines.IterationMode.Workload
                && m.IterationStage == BenchmarkDotNet.Engines.IterationStage.Actual) ?? 0;
            lock (Recorded)
            {
                if (!Recorded.TryGetValue(Key(benchmarkCase), out var all) || measured == 0 || all.Count < measured) return "-";
                var last = all.Skip(all.Count - measured).Order().ToList(); // the actual iterations come last
                return last[last.Count / 2].ToString("N3", System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        public static string Key(BenchmarkDotNet.Running.BenchmarkCase c) =>
            (c.Descriptor.WorkloadMethod.Name + " " + string.Join(" ", c.Parameters.Items.Select(p => $"{p.Name}={p.Value}"))).TrimEnd();

        public override string ToString() => ColumnName;
    }

    private static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Farm.sln"))) return dir.FullName;
        throw new InvalidOperationException("run from inside the repository");
    }
}
