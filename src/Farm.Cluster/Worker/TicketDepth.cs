namespace Farm.Cluster.Worker;

/// <summary>
/// How many tickets a worker keeps a slot (1 and up): about <see cref="TicketBatching.Window"/> of work, from the
/// trials it ran. Short trials earn depth, so that their results travel several to a message and the coordinator's
/// cost of a message and a transaction is shared (docs/cluster.md, "Short trials travel in batches"); trials of the
/// window or longer, or none yet, keep one a slot, the protocol before batches. The estimate is a weighted mean of the
/// trials' times (short trials' times vary by several times), except that one trial of the window or longer, finished or
/// still running, sets it at once: one long trial is enough to stop holding tickets (at a depth of one the worker gives
/// back what it keeps beyond its slots), as tickets held while their trials are long would wait here while another idles. Tickets for a request held while the queue was
/// empty start it again at one a slot.
/// </summary>
public sealed class TicketDepth(TicketBatching batching)
{
    private const double Weight = 0.2; // of a trial in the estimate: short trials' times vary by several times (thread hand-offs, GC)

    /// <summary>Seconds a trial, or 0 before the first.</summary>
    private double _estimate;

    /// <summary>Tickets a slot.</summary>
    public int Current { get; private set; } = 1;

    /// <summary>A trial ran for <paramref name="elapsed"/>.</summary>
    public void Observe(TimeSpan elapsed)
    {
        double t = Math.Max(elapsed.TotalSeconds, 1e-6);
        Estimate(_estimate == 0 || t >= batching.Window.TotalSeconds ? t : _estimate + Weight * (t - _estimate));
    }

    /// <summary>A trial has been running for <paramref name="elapsed"/>: one running for the window or longer is as one that took that long.</summary>
    public void Running(TimeSpan elapsed)
    {
        if (_estimate > 0 && elapsed >= batching.Window && elapsed.TotalSeconds > _estimate) Estimate(elapsed.TotalSeconds);
    }

    /// <summary>Tickets came for a request held while the queue was empty (<see cref="Protocol.WorkItems.Held"/>): they may be another
    /// sweep's trials, so depth is earned again from the first of them.</summary>
    public void Reset()
    {
        _estimate = 0;
        Current = 1;
    }

    private void Estimate(double seconds)
    {
        _estimate = seconds;
        Current = batching.MaxDepth <= 1 ? 1 : (int)Math.Clamp(batching.Window.TotalSeconds / seconds, 1, batching.MaxDepth);
    }
}

/// <summary>
/// A worker's batching of short trials: it keeps up to <see cref="MaxDepth"/> tickets a slot while its trials take under
/// <see cref="Window"/> divided by the depth, and sends a finished result at the latest <see cref="Window"/> after it finished.
/// <see cref="Off"/>: one ticket a slot, every result at once (protocol 2's traffic).
/// </summary>
public sealed record TicketBatching(TimeSpan Window, int MaxDepth)
{
    public static readonly TicketBatching Default = new(Hosting.NodeDefaults.TicketWindow, Hosting.NodeDefaults.MaxTicketDepth);

    public static readonly TicketBatching Off = new(TimeSpan.Zero, 1);
}
