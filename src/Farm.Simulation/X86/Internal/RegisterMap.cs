using Iced.Intel;

namespace Farm.Simulation.X86.Internal;

/// <summary>Iced register to (GPR index, size, high-8) in one table lookup.</summary>
internal static class RegisterMap
{
    internal readonly record struct RegInfo(int Index, int Size, bool High8);

    public static readonly RegInfo[] Info = Build();

    private static RegInfo[] Build()
    {
        var values = Enum.GetValues<Register>();
        var table = new RegInfo[values.Max(r => (int)r) + 1];
        foreach (var r in values)
        {
            if (r == Register.None) continue;
            if (r.IsGPR())
            {
                bool high8 = r is Register.AH or Register.CH or Register.DH or Register.BH;
                int index = high8 ? r - Register.AH : r.GetFullRegister() - Register.RAX;
                table[(int)r] = new RegInfo(index, r.GetSize(), high8);
            }
            else
            {
                // Non-GPRs (segment, vector, ...) are marked with a size that no GPR path accepts.
                table[(int)r] = new RegInfo(0, 16, false);
            }
        }
        return table;
    }
}
