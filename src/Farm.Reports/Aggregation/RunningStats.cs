using System.Numerics;

namespace Farm.Reports.Aggregation;

/// <summary>
/// One figure's statistics kept while results stream past: n, min, max, and the exact sums of the
/// values and of their squares. The sums are exact (integers in an <see cref="Int128"/> while every
/// value is an integer, else a <see cref="BigInteger"/> scaled by a power of two), so the mean and
/// the standard deviation do not depend on the order the results come in, and n equal values give
/// a standard deviation of exactly 0. Memory: a few words, whatever n is.
/// </summary>
public sealed class RunningStats
{
    private int _n;
    private double _min = double.PositiveInfinity, _max = double.NegativeInfinity;

    // Integer mode: the values' sum and sum of squares.
    private Int128 _sum, _squares;

    // Scaled mode (a fraction or an overflow was met): sum = _bigSum · 2^_exponent, squares = _bigSquares · 2^(2·_exponent).
    private BigInteger _bigSum, _bigSquares;
    private int _exponent;
    private bool _scaled;

    private const double IntegerLimit = 9007199254740992; // 2^53: integers below it are exact doubles

    public int N => _n;

    public void Add(double v)
    {
        if (!double.IsFinite(v)) throw new ArgumentOutOfRangeException(nameof(v), v, "a figure must be a finite number");
        _n++;
        if (v < _min) _min = v;
        if (v > _max) _max = v;
        if (!_scaled && Math.Abs(v) < IntegerLimit && v == Math.Floor(v))
        {
            var i = (Int128)(long)v;
            Int128 square = i * i;
            // |v| < 2^53: a square is below 2^106; the sums overflow only after about 2^21 values of that size.
            if (_squares <= Int128.MaxValue - square && _sum <= Int128.MaxValue - Int128.Abs(i) && _sum >= Int128.MinValue + Int128.Abs(i))
            {
                _sum += i;
                _squares += square;
                return;
            }
        }
        if (!_scaled) ToScaled();
        var (mantissa, exponent) = Decompose(v);
        if (exponent < _exponent)
        {
            int shift = _exponent - exponent;
            _bigSum <<= shift;
            _bigSquares <<= 2 * shift;
            _exponent = exponent;
        }
        var m = new BigInteger(mantissa) << (exponent - _exponent);
        _bigSum += m;
        _bigSquares += m * m;
    }

    private void ToScaled()
    {
        _scaled = true;
        _bigSum = (BigInteger)_sum;
        _bigSquares = (BigInteger)_squares;
        _exponent = 0;
    }

    /// <summary>v = mantissa · 2^exponent exactly, the mantissa an integer of at most 53 bits.</summary>
    private static (long Mantissa, int Exponent) Decompose(double v)
    {
        if (v == 0) return (0, 0);
        long bits = BitConverter.DoubleToInt64Bits(v);
        int rawExponent = (int)((bits >> 52) & 0x7FF);
        long fraction = bits & 0xFFFFFFFFFFFFFL;
        long mantissa = rawExponent == 0 ? fraction : fraction | (1L << 52);
        int exponent = (rawExponent == 0 ? 1 : rawExponent) - 1075;
        if (v < 0) mantissa = -mantissa;
        return (mantissa, exponent);
    }

    /// <summary>The statistics as <see cref="FigureStats.Of"/> defines them.</summary>
    public FigureStats ToStats()
    {
        if (_n == 0) return FigureStats.Empty;
        BigInteger sum = _scaled ? _bigSum : (BigInteger)_sum, squares = _scaled ? _bigSquares : (BigInteger)_squares;
        int exponent = _scaled ? _exponent : 0;
        double mean = Math.ScaleB((double)sum, exponent) / _n;
        if (_n == 1) return new FigureStats(1, mean, null, null, null, _min, _max);
        // Σ(v − mean)² · n = n·Σv² − (Σv)², exact; then one rounding.
        BigInteger spread = _n * squares - sum * sum;
        double variance = Math.ScaleB((double)spread, 2 * exponent) / ((double)_n * (_n - 1));
        double sd = Math.Sqrt(Math.Max(0, variance));
        double half = FigureStats.TQuantile975(_n - 1) * sd / Math.Sqrt(_n);
        return new FigureStats(_n, mean, sd, mean - half, mean + half, _min, _max);
    }
}
