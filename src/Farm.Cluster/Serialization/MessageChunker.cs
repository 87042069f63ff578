using Farm.Cluster.Protocol;

namespace Farm.Cluster.Serialization;

/// <summary>
/// Splits long lists into messages that each stay under <see cref="ProtocolLimits.ChunkBudgetBytes"/>
/// (measured with the wire encoding), so that no message reaches the remoting frame size.
/// </summary>
public static class MessageChunker
{
    /// <summary>A sweep's results as chunks 0 … Total-1, in order; one empty chunk when there are no items.</summary>
    public static IReadOnlyList<ResultsChunk> Results(SweepId sweep, IReadOnlyList<SweepResultItem> items, int budgetBytes = ProtocolLimits.ChunkBudgetBytes)
    {
        int overhead = FarmCodec.SizeOf(new ResultsChunk(sweep, int.MaxValue, int.MaxValue, []));
        var groups = Split(items, budgetBytes, overhead, i => $"result of trial {i.Trial} at position {i.Position}");
        return groups.Select((g, i) => new ResultsChunk(sweep, i, groups.Count, g)).ToList();
    }

    /// <summary>Tickets as <see cref="WorkItems"/> messages (each ticket carries its trial's whole resolved configuration);
    /// <paramref name="acked"/> and <paramref name="ackedToo"/>, the results the answer acknowledges, go with the first; <paramref name="held"/> with each.</summary>
    public static IReadOnlyList<WorkItems> Work(IReadOnlyList<TrialTicket> tickets, TrialId? acked = null, IReadOnlyList<TrialId>? ackedToo = null,
        bool held = false, int budgetBytes = ProtocolLimits.ChunkBudgetBytes)
    {
        int overhead = FarmCodec.SizeOf(new WorkItems([], acked, ackedToo, held));
        return Split(tickets, budgetBytes, overhead, t => $"ticket of trial {t.Id}")
            .Select((g, i) => i == 0 ? new WorkItems(g, acked, ackedToo, held) : new WorkItems(g, Held: held)).ToList();
    }

    /// <summary>Results as <see cref="TrialsFinished"/> messages; <paramref name="next"/>, the worker's request, goes with the last
    /// (the coordinator has the others' results by then, so it cuts the request by the tickets really out).</summary>
    public static IReadOnlyList<TrialsFinished> Finished(IReadOnlyList<TrialFinished> results, RequestWork? next, int budgetBytes = ProtocolLimits.ChunkBudgetBytes)
    {
        int overhead = FarmCodec.SizeOf(new TrialsFinished([], next));
        var groups = Split(results, budgetBytes, overhead, r => $"result of trial {r.Trial}");
        return groups.Select((g, i) => new TrialsFinished(g, i == groups.Count - 1 ? next : null)).ToList();
    }

    /// <summary>
    /// Greedy, order-preserving. An item over the budget travels alone if it still fits under
    /// <see cref="ProtocolLimits.MaxMessageBytes"/>; one that does not is an error naming it.
    /// </summary>
    internal static List<IReadOnlyList<T>> Split<T>(IReadOnlyList<T> items, int budgetBytes, int overheadBytes, Func<T, string> describe)
    {
        const int ArrayHeader = 5; // a MessagePack array32 header: the worst case for the list's length
        var groups = new List<IReadOnlyList<T>>();
        var current = new List<T>();
        long size = overheadBytes + ArrayHeader;
        foreach (var item in items)
        {
            int itemSize = FarmCodec.SizeOf(item);
            if (overheadBytes + ArrayHeader + itemSize >= ProtocolLimits.MaxMessageBytes)
                throw new InvalidOperationException($"the {describe(item)} is {itemSize} bytes encoded; no message may reach {ProtocolLimits.MaxMessageBytes}");
            if (current.Count > 0 && size + itemSize > budgetBytes)
            {
                groups.Add(current);
                current = [];
                size = overheadBytes + ArrayHeader;
            }
            current.Add(item);
            size += itemSize;
        }
        if (current.Count > 0 || groups.Count == 0) groups.Add(current);
        return groups;
    }
}
