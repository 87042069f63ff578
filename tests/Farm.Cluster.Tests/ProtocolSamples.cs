using Farm.Cluster.Protocol;

namespace Farm.Cluster.Tests;

/// <summary>One message of every protocol type, with every field set (and the optional ones both ways).</summary>
internal static class ProtocolSamples
{
    public static IReadOnlyList<IFarmMessage> All { get; } = Build();

    private static List<IFarmMessage> Build()
    {
        var spec = Specs.Parse(Specs.Small);
        var trial = spec.Trials[1];
        var sweep = spec.Id;
        var worker = new WorkerId("akka.tcp://farm@127.0.0.1:4053/user/worker#1");
        var item = new SweepResultItem(1, trial.Id, trial.Labels, TrialStatus.Done, Specs.FakeResult(trial), null);
        var failed = new SweepResultItem(2, spec.Trials[2].Id, spec.Trials[2].Labels, TrialStatus.Failed, null, "worker lost ✗");
        return
        [
            new RequestWork(worker, 8),
            new RequestWork(worker, 8, 0, null), // as a build before versions reads
            new RequestWork(worker, 30, slots: 2, keeps: 32), // a worker of short trials: more tickets than slots
            new WorkerRefused(2, "farm-model-4"),
            new WorkItems([trial.Ticket, spec.Trials[2].Ticket]),
            new WorkItems([]),
            new WorkItems([trial.Ticket], spec.Trials[0].Id), // answering a result that carried a request
            new WorkItems([trial.Ticket], spec.Trials[0].Id, [spec.Trials[2].Id, spec.Trials[3].Id]), // answering a batch
            new TrialFinished(trial.Id, worker, Specs.FakeResult(trial)),
            new TrialFinished(trial.Id, worker, Specs.FakeResult(trial), new RequestWork(worker, 1)), // with the next request
            new TrialFailed(trial.Id, worker, "ticket did not rebuild: unknown key 'x'"),
            new Ack(trial.Id),
            new Ack(trial.Id, [spec.Trials[0].Id]), // a batch
            new TrialsFinished([new TrialFinished(trial.Id, worker, Specs.FakeResult(trial)), new TrialFinished(spec.Trials[0].Id, worker, Specs.FakeResult(spec.Trials[0]))],
                new RequestWork(worker, 2, slots: 1)),
            new TrialsFinished([new TrialFinished(trial.Id, worker, Specs.FakeResult(trial))]),
            new TicketsReturned(worker, [trial.Id, spec.Trials[0].Id]),
            new SubmitSweep(Specs.Small, "/srv/farm/workloads", new Dictionary<string, string> { ["../micro/pt-clear.yaml"] = trial.Workload.Text }),
            new SubmitSweep(Specs.Small),
            new SweepAccepted(sweep, "small", 4, 3, 1, true),
            new SweepRejected("test.yaml:3: seeds: '0' is not valid; valid: a whole number of seeds, 1 or more"),
            new GetStatus(sweep),
            new GetStatus(),
            new StatusReply([new SweepStatus(sweep, "small", 1, false, 4, 1, 1, 1, 1, 0), new SweepStatus(new SweepId("00000000000000ff"), "other", 2, true, 2, 0, 0, 0, 0, 2)]),
            new CancelSweep(sweep),
            new SweepCancelled(sweep, 3),
            new GetResults(sweep),
            new GetSweep(sweep),
            new SweepInfo(sweep, "demo", "name: demo\n", "kvm-3.1"),
            new ResultsChunk(sweep, 0, 2, [item, failed]),
            new UnknownSweep(new SweepId("0123456789abcdef")),
            new StatusReply([], "store /srv/farm.db: the disk is full"),
            new GetResultsPage(sweep, 500, 1000),
            new ResultsPage(sweep, [item, failed], 3),
            new ResultsPage(sweep, [], null),
            new RequestFailed("store /srv/farm.db: the disk is full", true),
        ];
    }
}
