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

    /// <summary>An actor system; with <paramref name="remote"/>, on a loopback port of its own with the farm's serializer (as a node).</summary>
    public static ActorSystem System(string name, bool remote) => ActorSystem.Create(name, ConfigurationFactory.ParseString(remote
        ? """
          akka.loglevel = ERROR
          akka.actor.provider = remote
          akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
          """
        : "akka.loglevel = ERROR").WithFallback(FarmSerialization.Config));

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
            .WithInvocationCount(1).WithUnrollFactor(1));
    }

    private static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Farm.sln"))) return dir.FullName;
        throw new InvalidOperationException("run from inside the repository");
    }
}
