using Akka.Actor;

namespace Farm.Actors.Engine;

/// <summary>
/// Props for a trial's actors from a plain factory. Props.Create(() => new ...) evaluates the
/// expression's arguments by compiling them, 0.1 to 1 ms per actor on these machines; a trial
/// creates its VM actor and one actor per vCPU every time.
/// </summary>
internal sealed class Producer<TActor>(Func<TActor> create) : IIndirectActorProducer where TActor : ActorBase
{
    public Type ActorType => typeof(TActor);

    public ActorBase Produce() => create();

    public void Release(ActorBase actor)
    {
        // Nothing to release: the actor holds no resources of the producer's.
    }

    public static Props Props(Func<TActor> create) => Akka.Actor.Props.CreateBy(new Producer<TActor>(create));
}
