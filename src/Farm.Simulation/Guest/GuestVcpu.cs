using System.Runtime.CompilerServices;
using Farm.Simulation.Engine;
using Farm.Simulation.GuestCode;
using Farm.Simulation.Kvm;
using Farm.Simulation.X86;

namespace Farm.Simulation.Guest;

/// <summary>
/// One vCPU's guest side: architectural state and interpreter, its frame pool and processes,
/// and a local view of which guest pages have a valid spte (so an access that hits needs no
/// message). Every write to guest page tables or page contents runs a guest routine; a write
/// the gate refuses becomes a request to the shared MMU. Split: GuestVcpu.*.cs.
/// <para>
/// The guest model's async methods (here and in the workloads that drive it) use the pooling
/// builder: each one that waits on the MMU would otherwise allocate its state machine on the heap,
/// on every call, and at millions of requests per run those boxes were most of the allocation
/// and GC time (docs/performance.md, "Kernbench: what this round's engine work bought").
/// </para>
/// </summary>
public sealed partial class GuestVcpu : IWriteGate
{
    private readonly GuestVm _vm;
    private readonly Dictionary<ulong, bool> _view = [];
    private readonly ulong[] _args = new ulong[3];
    private readonly ulong _stackTop;
    // One request of each kind, reused (MmuRequest: at most one is pending per vCPU).
    private readonly UserAccessRequest _userAccess = new(0, false);
    private readonly KernelWriteRequest _kernelWrite = new(0);
    private readonly KernelReadRequest _kernelRead = new(0);
    private readonly Cr3Request _cr3 = new(0);
    private readonly InvlpgRequest _invlpg = new(0);

    internal GuestVcpu(GuestVm vm, int id, FramePool pool, ulong stackGfn, ulong idlePgd, RoutineImage routines, ulong seed)
    {
        _vm = vm;
        Id = id;
        Pool = pool;
        IdlePgd = idlePgd;
        Routines = routines;
        Cpu = new GuestCpu(vm.Mode.Bitness);
        Interpreter = new Interpreter(Cpu, vm.Memory, this);
        Kvm = new KvmVcpu(id, Interpreter);
        Context = new VcpuContext(id);
        Random = new RandomStream(seed, id);
        _stackTop = (stackGfn + 1) << 12;
    }

    public int Id { get; }
    public GuestCpu Cpu { get; }
    public Interpreter Interpreter { get; }
    public KvmVcpu Kvm { get; }
    public VcpuContext Context { get; }
    public FramePool Pool { get; }
    public RoutineImage Routines { get; }
    public RandomStream Random { get; }
    public GuestStats Stats { get; } = new();
    public ulong IdlePgd { get; }
    public GuestProcess? Current { get; private set; }
    public PagingMode Mode => _vm.Mode;
    public CostModel Cost => _vm.Cost;
    public GuestVm Vm => _vm;
    public long Clock => Context.Clock;

    /// <summary>The gate: may the guest kernel write this frame through its direct map without an exit?</summary>
    bool IWriteGate.CanWrite(ulong gfn) => _kernelView is null ? _vm.Mmu.KernelMapWritable(gfn, Kvm) : KernelCanAccess(gfn, write: true);

    /// <summary>Guest work that needs no MMU interaction (compute, bookkeeping).</summary>
    public void Spend(long cycles) => Context.Clock += cycles;

    /// <summary>A request to the shared MMU; a reply that carries remote flushes drops the view.
    /// Not an async method: it is awaited once per request, and a state machine here would be
    /// allocated on every request (<see cref="MmuReplyAwaitable"/> does the drop on resumption).</summary>
    private MmuReplyAwaitable Mmu(MmuRequest request) => new(this, Context.Mmu(request));

    /// <summary>Awaits the engine's reply, then drops the views if remote flushes reached this vCPU.</summary>
    private readonly struct MmuReplyAwaitable(GuestVcpu vcpu, VcpuContext.MmuAwaitable reply) : ICriticalNotifyCompletion
    {
        public MmuReplyAwaitable GetAwaiter() => this;
        public bool IsCompleted => reply.IsCompleted; // answered under the engine's lease
        public void OnCompleted(Action continuation) => reply.OnCompleted(continuation);
        public void UnsafeOnCompleted(Action continuation) => reply.UnsafeOnCompleted(continuation);

        public MmuReply GetResult()
        {
            var r = reply.GetResult();
            if (r.FlushView)
            {
                vcpu._view.Clear();
                vcpu.DropKernelView();
            }
            return r;
        }
    }

    /// <summary>
    /// Runs a guest routine as machine code. Each refused write exits to KVM; whatever KVM
    /// answers (retry, emulated, re-enter), the guest goes on from its RIP.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ulong> Run(KernelOp op, ulong a0, ulong a1 = 0, ulong a2 = 0, int argc = 1)
    {
        _args[0] = a0; _args[1] = a1; _args[2] = a2;
        Cpu.Rsp = _stackTop;
        long bytesBefore = Interpreter.StringBytes;
        var result = Interpreter.Call(Routines.EntryOf(op), _args.AsSpan(0, argc), budget: 100_000);
        for (int faults = 0; ; faults++)
        {
            Spend(result.Instructions * Cost.NativeStore);
            switch (result.Status)
            {
                case ExecutionStatus.Completed:
                    Spend((Interpreter.StringBytes - bytesBefore) / Cost.NativeBytesPerCycle);
                    return Cpu.Rax;
                case ExecutionStatus.Error:
                    throw new ModelException($"guest routine {Routines.Flavour.Routines[op].Name} on vCPU {Id}: {result.Error!.Message}");
            }
            if (faults > 10_000)
                throw new ModelException($"vCPU {Id}: guest routine {Routines.Flavour.Routines[op].Name} did not get past 0x{result.Fault.Address:x} after {faults} faults (shadow-page budget too small?)");
            var reply = await Mmu(_kernelWrite.Reuse(result.Fault.Address));
            NoteKernelTranslation(result.Fault.Address >> 12, reply);
            result = Interpreter.Run(budget: 100_000);
        }
    }

    /// <summary>
    /// A user-space access. Hits in the view cost nothing extra; a miss asks the MMU, which
    /// either finds a valid spte (no exit) or takes the shadow fault, possibly injecting a #PF
    /// that the guest kernel handles before the access is retried.
    /// </summary>
    public ValueTask Touch(GuestProcess proc, ulong va, bool write) =>
        ReferenceEquals(Current, proc) && _view.TryGetValue(va >> 12, out bool w) && (!write || w)
            ? default // a hit in the view: most touches, and no state machine for them
            : TouchMiss(proc, va, write);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask TouchMiss(GuestProcess proc, ulong va, bool write)
    {
        if (!ReferenceEquals(Current, proc)) throw new ModelException($"vCPU {Id}: process {proc.Pid} touched memory while not current");
        ulong vpn = va >> 12;
        for (int attempt = 0; ; attempt++)
        {
            if (_view.TryGetValue(vpn, out bool w) && (!write || w)) return;
            if (attempt > 16) throw new ModelException($"vCPU {Id}: access to 0x{va:x} did not resolve after {attempt} faults");
            var reply = await Mmu(_userAccess.Reuse(va, write));
            switch (reply.Kind)
            {
                case ReplyKind.Hit:
                case ReplyKind.Mapped:
                    _view[vpn] = reply.Writable;
                    if (!write || reply.Writable || reply.Kind == ReplyKind.Mapped) return;
                    break;
                case ReplyKind.InjectFault:
                    await HandlePageFault(proc, va, write);
                    break;
            }
        }
    }

    /// <summary>A context switch: the guest's bookkeeping, then the CR3 write (an exit).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SwitchTo(GuestProcess? proc)
    {
        ulong pgd = proc?.PgdGfn ?? IdlePgd;
        if (Current is not null && ReferenceEquals(Current, proc)) return;
        Spend(Cost.ContextSwitch);
        Stats.ContextSwitches++;
        Current = proc;
        _view.Clear();
        DropKernelView();
        await Mmu(_cr3.Reuse(pgd << 12));
    }

    /// <summary>flush_tlb_mm on the current mm: a same-CR3 write.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask FlushTlb()
    {
        _view.Clear();
        DropKernelView();
        await Mmu(_cr3.Reuse((Current?.PgdGfn ?? IdlePgd) << 12));
    }

    /// <summary>The vCPU's work is done: it halts (out of guest mode, so remote requests send it no IPI).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask Halt() => await Mmu(new HaltRequest());

    /// <summary>What an engine runs on a vCPU: the script, then the halt.</summary>
    public static Func<GuestVcpu, ValueTask> ThenHalt(Func<GuestVcpu, ValueTask> script) => async v =>
    {
        await script(v);
        await v.Halt();
    };

    /// <summary>flush_tlb_page: invlpg.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask Invlpg(ulong va)
    {
        _view.Remove(va >> 12);
        await Mmu(_invlpg.Reuse(va));
    }
}
