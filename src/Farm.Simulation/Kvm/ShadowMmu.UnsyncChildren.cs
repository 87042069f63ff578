namespace Farm.Simulation.Kvm;

public sealed partial class ShadowMmu
{
    /// <summary>
    /// The child pages a page's unsync_child_bitmap marks, in index order, as __mmu_unsync_walk
    /// visits them: a bit whose spte is no longer a present non-leaf is stale and cleared on the way.
    /// Callers clear the bits of children they find with nothing unsync below.
    /// </summary>
    private UnsyncChildEnumerator UnsyncChildren(ShadowPage sp) => new(this, sp);

    private struct UnsyncChildEnumerator(ShadowMmu mmu, ShadowPage sp)
    {
        private int _word = -1;
        private ulong _bits;

        public (int Index, ShadowPage Child) Current { get; private set; }

        public readonly UnsyncChildEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            while (true)
            {
                while (_bits == 0)
                {
                    if (++_word >= sp.UnsyncChildBitmap.Length) return false;
                    _bits = sp.UnsyncChildBitmap[_word]; // read once per word, as the walk did
                }
                int index = (_word << 6) + System.Numerics.BitOperations.TrailingZeroCount(_bits);
                _bits &= _bits - 1;
                ulong spte = sp.Spt[index];
                if (!Spte.IsPresent(spte) || Spte.IsLeaf(spte))
                {
                    ClearUnsyncChildBit(sp, index);
                    continue;
                }
                Current = (index, mmu.Page((int)Spte.Target(spte)));
                return true;
            }
        }
    }
}
