using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Farm.Actors;
using Farm.Cluster.Protocol;
using Farm.Cluster.Serialization;
using Farm.Cluster.Store;
using Farm.Cluster.Sweeps;
using Farm.Cluster.Worker;
using Farm.Simulation.Results;
using Farm.Simulation.Config;
using Farm.Simulation.GuestCode;
using Xunit;

namespace Farm.Cluster.Tests;

/// <summary>
/// A trial travels to a worker resolved and typed, with no workload text (issue 14 item 3): the
/// coordinator parses and expands a spec once, a worker parses no YAML.
/// </summary>
public sealed class TicketTests : IDisposable
{
    private static readonly TimeSpan Answer = TimeSpan.FromMinutes(5); // bounds a hang only

    /// <summary>A workload that exists only as submitted text: no file of this name is on any disk.
    /// Its description is a marker no ticket may carry; its clear_page routine (rep stosb: mov ecx,
    /// 4096; xor eax, eax; rep stosb; ret) must travel as bytes, since the trial id covers it.</summary>
    private const string Marker = "only-in-the-yaml-7f3a";
    private const string Workload = $$"""
        name: pt-clear-shipped
        kind: pt-clear
        description: {{Marker}}
        config:
          workload.regions: 2
          workload.pages_per_region: 4
        routines:
          clear_page: { bits: 64, bytes: "b9 00 10 00 00 31 c0 f3 aa c3" }
        """;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static SweepSpec Shipped(string extra = "") => SweepSpec.Parse(
        "name: shipped\nworkload: nowhere/pt-clear-shipped.yaml\nbase: { engine: sequential }\naxes: { policy: [kvm-3.1, kvm-3.3] }\n" + extra,
        baseDir: null, workloadTexts: new Dictionary<string, string> { ["nowhere/pt-clear-shipped.yaml"] = Workload });

    [Fact]
    public void ATicket_CarriesTheResolvedTrial_AndNoWorkloadText()
    {
        var trial = Shipped().Trials[0];
        var ticket = trial.Ticket;
        // The whole resolved configuration, in key order, and the routine as bytes.
        Assert.Equal(trial.Spec.Config.Values.Select(kv => new Setting(kv.Key, kv.Value)), ticket.Config);
        Assert.Equal(("pt-clear-shipped", "pt-clear", trial.Workload.Hash), (ticket.WorkloadName, ticket.WorkloadKind, ticket.WorkloadHash));
        var routine = Assert.Single(ticket.Routines);
        Assert.Equal((nameof(KernelOp.ClearPage), 64), (routine.Op, routine.Bitness));
        Assert.Equal(Convert.FromHexString("b90010000031c0f3aac3"), routine.Bytes);

        byte[] wire = FarmCodec.Serialize(new WorkItems([ticket]));
        string text = Encoding.UTF8.GetString(wire);
        Assert.DoesNotContain(Marker, text);
        Assert.DoesNotContain("nowhere/", text);
        Assert.DoesNotContain("routines", text);
        var back = Assert.IsType<WorkItems>(FarmCodec.Deserialize(wire, "farm.work-items")).Tickets.Single();
        Assert.Equal(ticket, back);

        var rebuilt = back.ToSpec();
        Assert.Equal(trial.Spec.Config.Canonical(false), rebuilt.Config.Canonical(false));
        Assert.Equal(trial.Id, TrialIdentity.Compute(rebuilt, back.WorkloadHash));
        Assert.Equal(routine.Bytes, rebuilt.Flavour().Routines[KernelOp.ClearPage].Bytes);
    }

    [Fact]
    public void ATicketMissingItsRoutine_IsRefused_NotRunAsAnotherTrial()
    {
        // The id covers the routine bytes: a ticket that lost them would run the flavour's own clear_page.
        var ticket = Shipped().Trials[0].Ticket;
        var e = Assert.Throws<ConfigException>(() => (ticket with { Routines = [] }).ToSpec());
        Assert.Contains("different model versions", e.Message);
        // A ticket of an older coordinator (workload text, no resolved trial) is refused by name.
        var old = Assert.Throws<ConfigException>(() => (ticket with { WorkloadKind = null!, Config = null! }).ToSpec());
        Assert.Contains("carries no resolved trial", old.Message);
        // The same from the bytes an older coordinator sends: WorkItems([Id, WorkloadName, WorkloadSource, WorkloadText, Overrides]).
        object[] oldTicket = [ticket.Id.Value, "pt-clear", "../micro/pt-clear.yaml", Workload, new object[] { new object[] { "seed", "1" } }];
        byte[] oldBytes = MessagePack.MessagePackSerializer.Serialize(new object[] { new object[] { oldTicket } }, FarmCodec.Options);
        var decoded = Assert.IsType<WorkItems>(FarmCodec.Deserialize(oldBytes, "farm.work-items")).Tickets.Single();
        Assert.Equal(ticket.Id, decoded.Id);
        Assert.Contains("carries no resolved trial", Assert.Throws<ConfigException>(() => decoded.ToSpec()).Message);
        var op = Assert.Throws<ConfigException>(() => (ticket with { Routines = [ticket.Routines[0] with { Op = "1" }] }).ToSpec());
        Assert.Contains("not a kernel operation", op.Message);
    }

    [Fact]
    public async Task AWorker_RunsATypedTicket_ToTheResultOfTheCoordinatorsSpec()
    {
        var trial = Shipped().Trials[1];
        // Every message crosses bytes, as between nodes.
        var config = ConfigurationFactory.ParseString("""
            akka.actor.serialize-messages = on
            akka.loglevel = ERROR
            """).WithFallback(FarmSerialization.Config);
        using var system = ActorSystem.Create("ticket-worker", config);
        var coordinator = Inbox.Create(system);
        var id = new WorkerId("worker-ticket");
        var worker = system.ActorOf(Props.Create(() => new WorkerActor(id, 1, coordinator.Receiver, TimeSpan.FromMinutes(10))));
        Assert.Equal(new RequestWork(id, 1, slots: 1, keeps: 1), await coordinator.ReceiveAsync(Answer));
        coordinator.Send(worker, new WorkItems([trial.Ticket]));
        var finished = Assert.IsType<TrialFinished>(await NextReport(coordinator));
        Assert.Equal((trial.Id, id), (finished.Trial, finished.Worker));
        // Byte for byte what the coordinator's own parse of the spec runs to, the run's timing aside.
        var expected = TrialRunner.Run(trial.Spec);
        Assert.Equal(Outcome.Completed, expected.Outcome); // the shipped routine runs
        Assert.Equal(expected.ToJson(withRun: false, indented: false),
            TrialResult.Parse(finished.ResultJson).ToJson(withRun: false, indented: false));
        await system.Terminate();
    }

    /// <summary>The worker's next report, past any further request for work.</summary>
    private static async Task<object> NextReport(Inbox coordinator)
    {
        while (true)
        {
            var m = await coordinator.ReceiveAsync(Answer);
            if (m is not RequestWork) return m;
        }
    }

    [Fact]
    public void AStore_BuildsTheTicketsItsSweepExpandedTo_ParsingEachWorkloadOnceAfterARestart()
    {
        // 2 workloads × 2 policies × 3 seeds = 12 trials over 2 workload texts.
        var spec = Specs.Parse("""
            name: tickets
            workloads: [../micro/pt-clear.yaml, ../micro/wrprotect.yaml]
            axes:
              policy: [kvm-3.1, kvm-3.3]
            seeds: 3
            """);
        Assert.Equal(12, spec.Trials.Count);
        string db = Path.Combine(_dir.Path, "farm.db");
        using (var store = new ResultStore(db))
        {
            store.SubmitSweep(spec);
            Assert.Equal(spec.Trials.Select(t => t.Ticket), store.NextQueued(100));
            Assert.Equal(0, store.WorkloadParses); // the submitted sweep's parsed files
        }
        using (var reopened = new ResultStore(db)) // a restarted coordinator
        {
            Assert.Equal(spec.Trials.Select(t => t.Ticket), reopened.NextQueued(100));
            Assert.Equal(spec.Trials.Select(t => t.Ticket), reopened.NextQueued(100));
            Assert.Equal(2, reopened.WorkloadParses);
        }
    }

    [Fact]
    public void ATrialWhoseStoredWorkloadNoLongerParses_FailsAtDispatch_AndTheQueueGoesOn()
    {
        // pt-clear × 2 seeds, then wrprotect × 2 seeds: the broken workload's trials are first in the queue.
        var spec = Specs.Parse("name: broken\nworkloads: [../micro/pt-clear.yaml, ../micro/wrprotect.yaml]\nseeds: 2\n");
        string db = Path.Combine(_dir.Path, "farm.db");
        using (var store = new ResultStore(db)) store.SubmitSweep(spec);
        // As if a newer build's parser refused the stored text of pt-clear.yaml.
        using (var raw = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Pooling=False"))
        {
            raw.Open();
            using var cmd = raw.CreateCommand();
            cmd.CommandText = "UPDATE workloads SET text = 'kind: [' WHERE hash = $hash";
            cmd.Parameters.AddWithValue("$hash", spec.Trials[0].Workload.Hash);
            Assert.Equal(1, cmd.ExecuteNonQuery());
        }
        using var reopened = new ResultStore(db);
        var wrprotect = spec.Trials.Where(t => t.Workload.Name == "wrprotect").Select(t => t.Ticket).ToList();
        Assert.Equal(wrprotect, reopened.NextQueued(10)); // read-only: passed over, still queued
        Assert.Equal(wrprotect, reopened.Dispatch(2, new WorkerId("w"))); // two asked, two given: past the broken ones
        foreach (var t in spec.Trials.Where(t => t.Workload.Name == "pt-clear"))
        {
            var record = reopened.FindTrial(t.Id)!;
            Assert.Equal(TrialStatus.Failed, record.Status);
            Assert.Contains("the coordinator cannot build its ticket", record.Error);
        }
    }
}
