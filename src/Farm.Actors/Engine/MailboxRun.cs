using System.Runtime.CompilerServices;
using Akka.Dispatch;

namespace Farm.Actors.Engine;

/// <summary>
/// The two checks with which Akka's mailbox run decides whether it may hand its actor a message
/// (<c>Mailbox.Run</c>: every system message first, then messages while <c>ShouldProcessMessage</c>),
/// for the strand's lease delivery (<see cref="TrialStrand"/>), which hands the lease over without
/// the run only when the run would do nothing else. They are internal to Akka, so they are bound
/// by name (<see cref="UnsafeAccessorAttribute"/>) against the version pinned in
/// Directory.Packages.props: a release that renamed them fails every actor-engine test with a
/// <see cref="MissingMethodException"/> naming the member, not silently.
/// </summary>
internal static class MailboxRun
{
    /// <summary>Neither closed (the actor stopped) nor suspended (it failed, is being stopped while its
    /// children stop, or its parent failed): the run would process messages.</summary>
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "ShouldProcessMessage")]
    public static extern bool ShouldProcessMessage(Mailbox mailbox);

    /// <summary>A system message waits (the actor's Create until its first run, a stop, a watch): the run
    /// would process it first.</summary>
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_HasSystemMessages")]
    public static extern bool HasSystemMessages(Mailbox mailbox);
}
