using Farm.Simulation.Kvm;

namespace Farm.Simulation.Engine;

/// <summary>
/// The rule of which MMU request is served next, for every engine (DESIGN.md, "Time and
/// determinism"). Requests are served strictly in (timestamp, vcpu id) order, and one only when
/// no vCPU that is still running could issue an earlier one: a vCPU that resumed at r issues its
/// next request at r + 1 or later (guest work between two requests takes at least one cycle,
/// <see cref="VcpuContext.Mmu"/>). A multi-step request (an emulated rep string) is served a
/// step at a time, each step re-queued at its own timestamp.
/// <para>
/// One <see cref="ServiceOrder"/> tracks the vCPUs of one VM: each is running (since a time),
/// waiting with a request, continuing a multi-step one, or done. The sequential engine runs every
/// vCPU to its next request before asking <see cref="Next"/>; in the actor engine the vCPU actor
/// holding the MMU's lease asks, and only a vCPU that has not started yet can block the earliest
/// request.
/// </para>
/// </summary>
public sealed class ServiceOrder
{
    private enum State : byte { Running, Waiting, Continuing, Done }

    private readonly State[] _state;
    private readonly long[] _time;            // Waiting/Continuing: the request's or step's timestamp; Running: the resume time
    private readonly PendingSlot[] _request;  // Waiting: the request

    // A struct around the reference: storing into an array of an unsealed class type costs a
    // covariance check per store (one per request); into an array of structs it does not.
    private struct PendingSlot
    {
        public MmuRequest? Request;
    }

    /// <summary>Every vCPU starts running at time 0.</summary>
    public ServiceOrder(int vcpus)
    {
        _state = new State[vcpus];
        _time = new long[vcpus];
        _request = new PendingSlot[vcpus];
    }

    public int Count => _state.Length;

    /// <summary>Whether (<paramref name="time"/>, <paramref name="id"/>) is served before (<paramref name="otherTime"/>, <paramref name="otherId"/>).</summary>
    public static bool Before(long time, int id, long otherTime, int otherId) => time < otherTime || (time == otherTime && id < otherId);

    /// <summary>The earliest timestamp of the next request of a vCPU that resumed at <paramref name="resumed"/>.</summary>
    public static long EarliestRequest(long resumed) => resumed + 1;

    /// <summary>vCPU <paramref name="id"/> waits with <paramref name="request"/> stamped <paramref name="time"/>.</summary>
    public void Request(int id, MmuRequest request, long time) => Set(id, State.Waiting, time, request);

    /// <summary>vCPU <paramref name="id"/>'s multi-step request has its next step due at <paramref name="time"/>.</summary>
    public void Continue(int id, long time) => Set(id, State.Continuing, time, null);

    /// <summary>vCPU <paramref name="id"/> runs guest code from <paramref name="time"/> (it was answered).</summary>
    public void Resume(int id, long time) => Set(id, State.Running, time, null);

    /// <summary>vCPU <paramref name="id"/>'s guest code finished.</summary>
    public void Finish(int id) => Set(id, State.Done, 0, null);

    private void Set(int id, State state, long time, MmuRequest? request)
    {
        _state[id] = state;
        _time[id] = time;
        _request[id].Request = request;
    }

    /// <summary>Whether every vCPU is done.</summary>
    public bool AllDone => Array.TrueForAll(_state, s => s == State.Done);

    /// <summary>
    /// The vCPU whose request (or step) is served now, or -1: none pending, or the earliest pending
    /// one could still be preceded by a request of a vCPU that is running.
    /// </summary>
    public int Next()
    {
        int next = -1;
        for (int i = 0; i < _state.Length; i++)
            if (_state[i] is State.Waiting or State.Continuing && (next < 0 || Before(_time[i], i, _time[next], next))) next = i;
        if (next < 0) return -1;
        for (int j = 0; j < _state.Length; j++)
            if (_state[j] == State.Running && Before(EarliestRequest(_time[j]), j, _time[next], next)) return -1;
        return next;
    }

    /// <summary>
    /// For the actor engine, where other vCPUs may be running while the lease's holder serves:
    /// <see cref="Next"/> and, in the same scan, the earliest request another vCPU has pending or
    /// could still issue (<see cref="EarliestElsewhere"/> of the vCPU returned): that vCPU's
    /// requests before it are served next whatever the others do. Each vCPU that is not done
    /// counts by its pending request's time or, running, its <see cref="EarliestRequest"/>; the
    /// earliest of them all is served if it is a pending one, else nothing can be yet.
    /// </summary>
    public int Next(out long horizonTime, out int horizonId)
    {
        int first = -1;
        long firstTime = long.MaxValue;
        horizonTime = long.MaxValue;
        horizonId = int.MaxValue;
        for (int j = 0; j < _state.Length; j++)
        {
            var state = _state[j];
            if (state == State.Done) continue;
            long t = state == State.Running ? EarliestRequest(_time[j]) : _time[j];
            if (first < 0 || Before(t, j, firstTime, first))
            {
                horizonTime = firstTime;
                horizonId = first < 0 ? int.MaxValue : first;
                first = j;
                firstTime = t;
            }
            else if (Before(t, j, horizonTime, horizonId))
            {
                horizonTime = t;
                horizonId = j;
            }
        }
        return first >= 0 && _state[first] != State.Running ? first : -1;
    }

    /// <summary>
    /// The earliest request that a vCPU other than <paramref name="id"/> has pending or, if it is
    /// running, could still issue (<see cref="EarliestRequest"/>); long.MaxValue, int.MaxValue when
    /// every other vCPU is done. Requests of <paramref name="id"/> before it are served next whatever
    /// the others do. For the actor engine, where vCPUs that have not started yet count as running.
    /// </summary>
    public void EarliestElsewhere(int id, out long horizonTime, out int horizonId)
    {
        horizonTime = long.MaxValue;
        horizonId = int.MaxValue;
        for (int j = 0; j < _state.Length; j++)
        {
            if (j == id || _state[j] == State.Done) continue;
            long t = _state[j] == State.Running ? EarliestRequest(_time[j]) : _time[j];
            if (Before(t, j, horizonTime, horizonId))
            {
                horizonTime = t;
                horizonId = j;
            }
        }
    }

    /// <summary>
    /// For an engine that runs every vCPU to its next request before serving (the sequential one:
    /// no vCPU is ever running here): <see cref="Next"/> and, in the same scan, its horizon, the
    /// earliest request pending elsewhere (long.MaxValue, int.MaxValue when none; <see cref="HorizonFor"/>).
    /// </summary>
    public int NextWithHorizon(out long horizonTime, out int horizonId)
    {
        int next = -1;
        horizonTime = long.MaxValue;
        horizonId = int.MaxValue;
        for (int i = 0; i < _state.Length; i++)
        {
            var state = _state[i];
            if (state == State.Done) continue;
            if (state == State.Running) throw new InvalidOperationException($"vCPU {i} is running while requests are served in one scan");
            if (next < 0 || Before(_time[i], i, _time[next], next))
            {
                if (next >= 0)
                {
                    horizonTime = _time[next];
                    horizonId = next;
                }
                next = i;
            }
            else if (Before(_time[i], i, horizonTime, horizonId))
            {
                horizonTime = _time[i];
                horizonId = i;
            }
        }
        return next;
    }

    /// <summary>The timestamp of vCPU <paramref name="id"/>'s pending request or step.</summary>
    public long Time(int id) => _time[id];

    /// <summary>Whether vCPU <paramref name="id"/> waits with a request or a step of one.</summary>
    public bool HasPending(int id) => _state[id] is State.Waiting or State.Continuing;

    /// <summary>Whether vCPU <paramref name="id"/> is in the middle of a multi-step request.</summary>
    public bool Continuing(int id) => _state[id] == State.Continuing;

    /// <summary>vCPU <paramref name="id"/>'s pending request (not a step of one).</summary>
    public MmuRequest Pending(int id) => _request[id].Request ?? throw new InvalidOperationException($"vCPU {id} has no request pending");

    /// <summary>
    /// Serves vCPU <paramref name="id"/>'s pending request or its next step on <paramref name="mmu"/>
    /// and records where it stands then: continuing at the next step's time, or running from the
    /// reply's time (the caller delivers the reply).
    /// </summary>
    public MmuStep Serve(ShadowMmu mmu, KvmVcpu kvm, int id) => Serve(mmu, kvm, id, long.MinValue, out _);

    /// <summary>
    /// As <see cref="Serve(ShadowMmu, KvmVcpu, int)"/>, and a multi-step request's further steps
    /// due at or before <paramref name="through"/> in the same call (<see cref="LastBefore"/>: the ones
    /// served next whatever happens); <paramref name="steps"/> counts the steps served.
    /// </summary>
    public MmuStep Serve(ShadowMmu mmu, KvmVcpu kvm, int id, long through, out long steps)
    {
        var step = Continuing(id) ? mmu.Continue(kvm, _time[id], through, out steps) : mmu.Serve(kvm, Pending(id), _time[id], through, out steps);
        if (step.Finished) Resume(id, step.Time);
        else Continue(id, step.Time);
        return step;
    }

    /// <summary>
    /// The last timestamp at which a step of vCPU <paramref name="id"/> is still served before
    /// (<paramref name="horizonTime"/>, <paramref name="horizonId"/>): <see cref="Before"/> as one comparison.
    /// </summary>
    public static long LastBefore(int id, long horizonTime, int horizonId) => id < horizonId ? horizonTime : horizonTime - 1;

    /// <summary>
    /// When every vCPU other than <paramref name="id"/> waits or is done: the earliest request
    /// pending elsewhere (long.MaxValue, int.MaxValue when none), up to which <paramref name="id"/>'s
    /// own requests are served next whatever it does; null when another vCPU is running.
    /// </summary>
    public (long Time, int Id)? HorizonFor(int id)
    {
        long time = long.MaxValue;
        int at = int.MaxValue;
        for (int j = 0; j < _state.Length; j++)
        {
            if (j == id || _state[j] == State.Done) continue;
            if (_state[j] == State.Running) return null;
            if (Before(_time[j], j, time, at))
            {
                time = _time[j];
                at = j;
            }
        }
        return (time, at);
    }
}
