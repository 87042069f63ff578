using Akka.Actor;
using Akka.Configuration;
using Farm.Simulation.Guest;

namespace Farm.Actors.Engine;

/// <summary>Runs a VM on actors: a VM actor and one actor per vCPU, in the given actor system.</summary>
public static class ActorEngine
{
    private static readonly Lazy<ActorSystem> Local = new(() => ActorSystem.Create("farm-local",
        ConfigurationFactory.ParseString("""
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            akka.log-dead-letters = off
            akka.log-dead-letters-during-shutdown = off
            """)));

    /// <summary>An in-process actor system for local trials (farm run).</summary>
    public static ActorSystem LocalSystem => Local.Value;

    /// <summary>
    /// Starts the VM's actors in <paramref name="system"/>; completes with the number of MMU
    /// service steps, or faults with the model's own exception. The trial's actors run on
    /// <paramref name="dispatcher"/> if given (for example <c>akka.actor.default-dispatcher</c>, on
    /// which they run in parallel), else on a strand of their own (<see cref="TrialStrand"/>).
    /// </summary>
    public static Task<long> RunAsync(ActorSystem system, GuestVm vm, Func<GuestVcpu, ValueTask> script, string? dispatcher = null)
    {
        var completion = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        script = GuestVcpu.ThenHalt(script); // as the sequential engine does
        Props props;
        if (dispatcher is null)
        {
            var strands = TrialStrand.Pool.Of(system);
            string strand = strands.Rent();
            props = Producer<VmActor>.Props(() => new VmActor(vm, script, completion, () => strands.Return(strand)))
                .WithDispatcher(strand).WithMailbox(LeaseMailbox.Id);
        }
        else
        {
            props = Producer<VmActor>.Props(() => new VmActor(vm, script, completion)).WithDispatcher(dispatcher);
        }
        system.ActorOf(props, $"vm-{Guid.NewGuid():N}");
        return completion.Task;
    }

    /// <summary>Runs <paramref name="script"/> on every vCPU; returns the number of MMU service steps.
    /// A model failure is rethrown as the original exception.</summary>
    public static long Run(ActorSystem system, GuestVm vm, Func<GuestVcpu, ValueTask> script, TimeSpan? timeout = null, string? dispatcher = null)
    {
        var task = RunAsync(system, vm, script, dispatcher);
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(timeout ?? TimeSpan.FromHours(24)))
            throw new TimeoutException("the actor engine did not finish the trial in time");
        return task.GetAwaiter().GetResult(); // the original exception, not an AggregateException
    }
}
