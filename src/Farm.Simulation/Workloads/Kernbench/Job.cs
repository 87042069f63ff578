namespace Farm.Simulation.Workloads.Kernbench;

/// <summary>
/// One compile job (or make itself): the chain of processes from the one make forked down to the
/// one running now. Each parent waits for its child, so only the innermost is runnable.
/// </summary>
public sealed class Job(ImageTask first)
{
    private readonly Stack<ImageTask> _chain = new([first]);

    public ImageTask Top => _chain.Peek();
    public int Depth => _chain.Count;
    public void Push(ImageTask child) => _chain.Push(child);
    public void Pop() => _chain.Pop();
}
