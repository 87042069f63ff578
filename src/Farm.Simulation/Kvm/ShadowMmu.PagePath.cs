namespace Farm.Simulation.Kvm;

public sealed partial class ShadowMmu
{
    /// <summary>
    /// struct mmu_page_path, as the batches of mmu_unsync_walk are walked (for_each_sp,
    /// mmu_pages_next): <c>parent[level - 2]</c> is the page of that level on the path, <c>idx[level - 1]</c>
    /// its index in the level above, <c>idx[0]</c> the leaf's index in its parent. Shared by
    /// mmu_sync_children and mmu_zap_unsync_children, which walk their batches the same way.
    /// </summary>
    private sealed class MmuPagePath
    {
        private readonly ShadowPage?[] _parents = new ShadowPage?[PT64_ROOT_LEVEL];
        private readonly int[] _idx = new int[PT64_ROOT_LEVEL];

        /// <summary>kvm_mmu_pages_init: the path ends above <paramref name="root"/>.</summary>
        public void Init(ShadowPage root) => _parents[root.Level - 1] = null;

        /// <summary>mmu_pages_next for one entry of the batch: a parent extends the path (false); a leaf (true) ends it.</summary>
        public bool Next(ShadowPage sp, int index)
        {
            if (sp.Level != 1)
            {
                _parents[sp.Level - 2] = sp;
                _idx[sp.Level - 1] = index;
                return false;
            }
            _idx[0] = index;
            return true;
        }

        /// <summary>
        /// mmu_pages_clear_parents: after a leaf of the batch is synced or zapped, clear its bit along
        /// the path the walk found it by, and each parent's bit in the level above while the parent has
        /// no unsync child left, up to the page below the root's parent. Other parents of the leaf keep
        /// their bits (stale) until a later walk finds nothing unsync below them. The kernel decrements
        /// unsync_children unconditionally: the bit is always still set there (only a walk or this
        /// function clears one), so the idempotent clear does the same.
        /// </summary>
        public void MmuPagesClearParents()
        {
            int level = 0;
            ShadowPage? sp;
            do
            {
                sp = _parents[level];
                if (sp is null) return;
                ClearUnsyncChildBit(sp, _idx[level]);
                level++;
            } while (level < PT64_ROOT_LEVEL - 1 && sp.UnsyncChildren == 0);
        }
    }
}
