namespace Farm.Cluster.Worker;

/// <summary>
/// How many tickets a worker keeps a slot (1 and up): about <see cref="TicketBatching.Window"/> of work, from the
/// trials it ran. Short trials earn depth, so that their results travel several to a message and the coordinator's
/// cost of a message and a transaction is shared (docs/cluster.md, "Short trials travel in batches"); trials of the
/// window or longer, or none yet, keep one a slot, the protocol before batches. The estimate follows a longer trial at
/// once and a shorter one slowly (a weighted mean), and a trial still running counts as at least as long as it has run:
/// one long trial is enough to stop holding tickets (the worker gives back what it keeps beyond), as tickets held while
/// their trials are long would wait on this worker while another idles. Tickets for a request held while the queue was
/// empty start it again at one a slot.
/// </summary>
public sealed class TicketDepth(TicketBatching batching)
{
    private const double Weight = 0.2; // of a trial shorter than the estimate

    /// <summary>Seconds a trial, or 0 before the first.</summary>
    private double _estimate;

    /// <summary>Tickets a slot.</summary>
    public int Current { get; private set; } = 1;

    /// <summary>A trial ran for <paramref name="elapsed"/>.</summary>
    public void Observe(TimeSpan elapsed)
    {
        double t = Math.Max(elapsed.TotalSeconds, 1e-6);
        Estimate(_estimate == 0 || t > _estimate ? t : (1 - Weight) * _estimate + Weight * t);
    }

    /// <summary>A trial has been running for <paramref name="elapsed"/>: it takes at least that long.</summary>
    public void Running(TimeSpan elapsed)
    {
        if (_estimate > 0 && elapsed.TotalSeconds > _estimate) Estimate(elapsed.TotalSeconds);
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
