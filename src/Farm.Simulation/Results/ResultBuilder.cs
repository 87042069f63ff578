using System.Text.Json.Nodes;
using Farm.Simulation.Config;
using Farm.Simulation.Guest;
using Farm.Simulation.Kvm;

namespace Farm.Simulation.Results;

/// <summary>Walks the VM's counters into the RESULTS.md object.</summary>
public static class ResultBuilder
{
    public static TrialResult Build(string workload, SimConfig config, GuestVm? vm, Outcome outcome, string? error, double wallSeconds, long events)
    {
        var trial = new JsonObject
        {
            ["id"] = config.TrialId(workload),
            ["workload"] = workload,
            ["seed"] = config.Int("seed"),
            ["policy"] = config.Text("policy"),
            ["engine"] = config.Text("engine"),
            ["model_version"] = ConfigSchema.ModelVersion,
            ["config"] = new JsonObject(config.Values.Where(kv => kv.Key != "engine").Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        };
        var root = new JsonObject { ["trial"] = trial, ["outcome"] = outcome.Name() };
        if (error is not null) root["error"] = error;

        var s = vm?.Mmu.Stats ?? new MmuStats();
        var l = vm?.Mmu.Lock ?? new MmuLock();
        var g = new GuestStats();
        long elapsed = 0;
        if (vm is not null)
            foreach (var v in vm.Vcpus) { g.Add(v.Stats); elapsed = Math.Max(elapsed, v.Clock); }
        double ghz = config.Double("cost.guest_ghz");

        root["time"] = new JsonObject { ["elapsed_cycles"] = elapsed, ["elapsed_seconds"] = elapsed / (ghz * 1e9), ["guest_ghz"] = ghz };
        root["exits"] = Obj(("total", s.ExitsPageFault + s.ExitsWriteProtect + s.ExitsCr3 + s.ExitsInvlpg + s.ExitsIpi + s.ExitsEptViolation), ("page_fault", s.ExitsPageFault),
            ("write_protect", s.ExitsWriteProtect), ("cr3", s.ExitsCr3), ("invlpg", s.ExitsInvlpg), ("ipi", s.ExitsIpi), ("ept_violation", s.ExitsEptViolation));
        root["emulation"] = Obj(("instructions", s.EmulatedInstructions), ("elements", s.EmulatedElements), ("retried", s.Retried));
        root["pte_write"] = Obj(("calls", s.PteWriteCalls), ("bytes_1", s.PteWriteBytes1), ("bytes_4", s.PteWriteBytes4), ("bytes_8", s.PteWriteBytes8),
            ("bytes_other", s.PteWriteBytesOther), ("misaligned", s.PteWriteMisaligned), ("sptes_updated", s.SptesUpdated),
            ("prefetched", s.PteWritePrefetched), ("prefetch_skipped", s.PrefetchSkipped));
        root["zap"] = Obj(("pages", s.ZapPages), ("misaligned", s.ZapMisaligned), ("flooded", s.ZapFlooded), ("unprotect", s.ZapUnprotect),
            ("reclaim", s.ZapReclaim), ("sync", s.ZapSync), ("other", s.ZapOther), ("roots_in_use", s.ZapRootsInUse));
        root["flooding"] = Obj(("zaps_page_dead", s.ZapsPageDead), ("zaps_page_live", s.ZapsPageLive), ("emulations_on_dead_pages", s.EmulationsOnDeadPages));
        root["desc_cache"] = Obj(("allocations", s.DescAllocations), ("topups", s.Topups), ("exhausted", s.Exhausted));
        root["shadow"] = Obj(("faults", s.ShadowFaults), ("pages_created", s.PagesCreated), ("prefetched", s.ShadowPrefetched), ("unsync", s.Unsync),
            ("resync", s.Resync), ("remote_flushes", s.RemoteFlushes));

        root["tdp"] = Obj(("walks", s.TdpWalks), ("walk_cycles", s.TdpWalks * (vm?.Cost.TdpWalk ?? 0)));

        var bySite = new JsonObject();
        foreach (var site in LockSites.All)
        {
            int i = (int)site;
            bySite[site.Name()] = Obj(("acquisitions", l.Acquisitions[i]), ("hold_cycles", l.HoldCycles[i]), ("wait_cycles", l.WaitCycles[i]));
        }
        root["mmu_lock"] = new JsonObject
        {
            ["acquisitions"] = l.Acquisitions.Sum(),
            ["hold_cycles"] = l.HoldCycles.Sum(),
            ["wait_cycles"] = l.WaitCycles.Sum(),
            ["contended"] = l.Contended,
            ["wait_p50"] = l.Percentile(0.50),
            ["wait_p99"] = l.Percentile(0.99),
            ["wait_max"] = l.MaxWait,
            ["by_site"] = bySite,
        };
        root["guest"] = Obj(("processes", g.Processes), ("forks", g.Forks), ("execs", g.Execs), ("page_faults", g.PageFaults),
            ("pt_pages_allocated", g.PtPagesAllocated), ("pt_pages_freed", g.PtPagesFreed), ("context_switches", g.ContextSwitches));
        var vcpus = new JsonArray();
        if (vm is not null)
            foreach (var v in vm.Vcpus)
                vcpus.Add(Obj(("id", v.Id), ("elapsed_cycles", v.Clock), ("exits", v.Kvm.Exits), ("lock_wait_cycles", v.Kvm.LockWaitCycles),
                    ("ipi_exits", v.Kvm.IpiExits)));
        root["vcpus"] = vcpus;
        root["run"] = new JsonObject { ["wall_seconds"] = Math.Round(wallSeconds, 6), ["events"] = events };
        return new TrialResult(root);
    }

    private static JsonObject Obj(params (string Name, long Value)[] fields)
    {
        var o = new JsonObject();
        foreach (var (n, v) in fields) o[n] = v;
        return o;
    }
}
