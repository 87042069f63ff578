using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Farm.Cluster.Protocol;
using Farm.Simulation.Config;

namespace Farm.Cluster.Sweeps;

/// <summary>A key a sensitivity varies, with its plausible range (from the schema) and type.</summary>
public sealed record SensitivityKey(string Key, PlausibleRange Range, ConfigType Type)
{
    /// <summary>The value at <paramref name="u"/> ∈ [0, 1] of the range, as the key's canonical text: integers rounded, numbers to 3 decimals.</summary>
    public string At(double u)
    {
        double v = Range.Low + u * (Range.High - Range.Low);
        v = Type == ConfigType.Int ? Math.Round(v, MidpointRounding.ToEven) : Math.Round(v, 3, MidpointRounding.ToEven);
        v = Math.Clamp(v, Range.Low, Range.High);
        return Type == ConfigType.Int ? ((long)v).ToString(CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture);
    }

    public string Low => At(0);
    public string High => At(1);
}

/// <summary>One sensitivity setting of the cost keys: a key at one end of its range, or a Monte Carlo draw of every key.</summary>
public sealed record SensitivityPoint(string Label, IReadOnlyList<Setting> Settings);

/// <summary>
/// A sweep's <c>sensitivity:</c> block: which cost keys vary, one at a time (each at its low and
/// high end, the others as the trial has them) and in <see cref="Draws"/> Monte Carlo draws (a
/// Latin hypercube over every listed range). The design is a function of the block alone (keys,
/// ranges, draws, <see cref="DesignSeed"/>), so a resubmission expands to the same trials; it is
/// the same for every workload, variant and seed of the sweep, and a trial keeps its seed, so the
/// variants of one draw see the same workload (common random numbers). docs/sweeps.md.
/// </summary>
public sealed class SweepSensitivity
{
    public const string LabelKey = "sensitivity";
    public const int DefaultDraws = 20;

    internal SweepSensitivity(IReadOnlyList<SensitivityKey> keys, bool oneAtATime, int draws, IReadOnlyList<string> workloads,
        IReadOnlyList<string> variants, int seeds, long designSeed)
    {
        Keys = keys;
        OneAtATime = oneAtATime;
        Draws = draws;
        Workloads = workloads;
        Variants = variants;
        Seeds = seeds;
        DesignSeed = designSeed;
        Unit = LatinHypercube(draws, keys.Count, DesignRng());
        Points = BuildPoints();
    }

    public IReadOnlyList<SensitivityKey> Keys { get; }
    public bool OneAtATime { get; }
    public int Draws { get; }

    /// <summary>The workload names the sensitivity covers (every workload of the sweep unless the block names some).</summary>
    public IReadOnlyList<string> Workloads { get; }

    /// <summary>The variant names it covers; empty when the sweep has no variants.</summary>
    public IReadOnlyList<string> Variants { get; }

    /// <summary>Seeds per point: the sweep's first <see cref="Seeds"/> seeds.</summary>
    public int Seeds { get; }

    public long DesignSeed { get; }

    /// <summary>The Latin hypercube before scaling: [draw][key] in [0, 1), one draw in each of <see cref="Draws"/> equal strata of every key.</summary>
    public IReadOnlyList<IReadOnlyList<double>> Unit { get; }

    /// <summary>Every sensitivity point in order: each key low then high (in key order), then the draws.</summary>
    public IReadOnlyList<SensitivityPoint> Points { get; }

    /// <summary>Trials per workload × variant × axis point: points × seeds.</summary>
    public int TrialsPerPoint => Points.Count * Seeds;

    private List<SensitivityPoint> BuildPoints()
    {
        var points = new List<SensitivityPoint>();
        if (OneAtATime)
            foreach (var k in Keys)
            {
                points.Add(new SensitivityPoint($"low:{k.Key}", [new Setting(k.Key, k.Low)]));
                points.Add(new SensitivityPoint($"high:{k.Key}", [new Setting(k.Key, k.High)]));
            }
        for (int d = 0; d < Draws; d++)
            points.Add(new SensitivityPoint($"draw:{d + 1}", Keys.Select((k, j) => new Setting(k.Key, k.At(Unit[d][j]))).ToList()));
        return points;
    }

    /// <summary>The text the design's random stream is seeded from: keys with ranges, draws and the design seed.</summary>
    internal string DesignText() =>
        $"farm-lhs-1\ndraws={Draws}\ndesign_seed={DesignSeed}\n" + string.Join('\n', Keys.Select(k => $"{k.Key}={k.Range}"));

    private SplitMix64 DesignRng()
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(DesignText()));
        return new SplitMix64(BinaryPrimitives.ReadUInt64LittleEndian(hash));
    }

    /// <summary>
    /// n draws of k coordinates: for each coordinate a random permutation of the n strata, and a
    /// uniform offset inside each stratum. Coordinates are drawn one after another from one stream.
    /// </summary>
    internal static IReadOnlyList<IReadOnlyList<double>> LatinHypercube(int n, int k, SplitMix64 rng)
    {
        var u = new double[n][];
        for (int i = 0; i < n; i++) u[i] = new double[k];
        for (int j = 0; j < k; j++)
        {
            var perm = Enumerable.Range(0, n).ToArray();
            for (int i = n - 1; i > 0; i--)
            {
                int r = (int)(rng.Next() % (ulong)(i + 1));
                (perm[i], perm[r]) = (perm[r], perm[i]);
            }
            for (int i = 0; i < n; i++) u[i][j] = (perm[i] + rng.NextDouble()) / n;
        }
        return u;
    }
}

/// <summary>SplitMix64 (Steele, Lea, Flood 2014): a small, fixed generator, so a design never depends on the runtime's Random.</summary>
internal sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A double in [0, 1) from the top 53 bits.</summary>
    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));
}
