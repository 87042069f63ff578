using Farm.Simulation.Config;
using Farm.Simulation.Engine;
using Farm.Simulation.Guest;
using Farm.Simulation.Results;
using Farm.Simulation.Workloads;
using Xunit;

namespace Farm.Simulation.Tests.Engine;

/// <summary>
/// The sequential engine serves an emulated rep string's steps due before every other vCPU's
/// request in one call to the MMU (ShadowMmu.Serve/Continue with a `through` time), inside the
/// guest's await under its lease or in its own loop. Against the service order applied one step
/// per event, with neither shortcut, the results and the event count must be the same.
/// </summary>
public class StepRunTests
{
    [Theory]
    [InlineData("pt-clear", true, "policy=kvm-3.1", "vm.vcpus=1")]         // one vCPU: runs end at the 1024 rule or the instruction's end
    [InlineData("pt-clear", true, "policy=kvm-3.1", "vm.vcpus=4")]         // the other vCPUs' requests cut the runs (all clear at once: mostly after one element)
    [InlineData("pt-clear", true, "policy=kvm-3.1", "vm.vcpus=3", "guest.flavour=linux-3.x-erms")] // rep stosb: runs stop at RCX = 3072 (Reenter)
    [InlineData("pt-clear", true, "policy=kvm-3.1", "vm.vcpus=2", "vm.paging=i386", "guest.flavour=linux-3.x-i386")] // 32-bit: ECX counts
    [InlineData("pt-clear", false, "policy=kvm-3.3", "vm.vcpus=2")]        // 3.3 retries the rep stos: one-step requests only
    [InlineData("flood-reuse", true, "policy=kvm-3.1", "vm.vcpus=4")]
    public void RunsOfSteps_GiveTheSameResultAndEventsAsOneStepPerEvent(string kind, bool emulatesRepStrings, params string[] sets)
    {
        var workload = WorkloadRegistry.Get(kind);
        string[] keys = kind == "pt-clear" ? [.. sets, "workload.rounds=6"] : sets;
        var spec = new TrialSpec(kind, workload, SimConfig.Resolve(KeyValueArgs.Parse(keys), workload.Keys));
        var engine = Trial.RunSequential(spec);
        var reference = Trial.Run(spec, vm => OneStepPerEvent(vm, v => workload.RunVcpu(v, spec.Config)));
        Assert.Equal(Outcome.Completed, reference.Outcome);
        long elements = reference.Long("emulation.elements"), instructions = reference.Long("emulation.instructions");
        Assert.Equal(emulatesRepStrings, elements > instructions); // more elements than instructions: rep strings ran in steps
        Assert.Equal(reference.ToJson(withRun: false), engine.ToJson(withRun: false));
        Assert.Equal(Events(reference), Events(engine));
    }

    private static long Events(TrialResult r) => (long)r.Root["run"]!["events"]!;

    /// <summary>The service order's rule with nothing shortcut: <see cref="ServiceOrder.Next"/>, then one step, one event.</summary>
    private static long OneStepPerEvent(GuestVm vm, Func<GuestVcpu, ValueTask> script)
    {
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null); // guest continuations run inline, here
        try
        {
            var vcpus = vm.Vcpus;
            var run = GuestVcpu.ThenHalt(script);
            var tasks = new ValueTask[vcpus.Length];
            var order = new ServiceOrder(vcpus.Length);
            long events = 0;
            for (int i = 0; i < vcpus.Length; i++)
            {
                tasks[i] = run(vcpus[i]);
                Stopped(i);
            }
            for (int id; (id = order.Next()) >= 0;)
            {
                events++;
                var step = order.Serve(vm.Mmu, vcpus[id].Kvm, id);
                if (!step.Finished) continue;
                vcpus[id].Context.Resume(step.Reply, step.Time);
                Stopped(id);
            }
            Assert.True(order.AllDone);
            return events;

            void Stopped(int i)
            {
                if (tasks[i].IsCompleted)
                {
                    tasks[i].GetAwaiter().GetResult();
                    order.Finish(i);
                }
                else
                {
                    order.Request(i, vcpus[i].Context.Pending!, vcpus[i].Context.PendingTime);
                }
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }
}
