using System.Globalization;
using Farm.Simulation.X86;
using Iced.Intel;
using Xunit;

namespace Farm.Simulation.Tests.X86;

/// <summary>One line of Vectors/classify.txt.</summary>
internal sealed record ClassifyVector(string File, int Line, string Text, byte[] Bytes, int Bitness, IReadOnlyDictionary<string, string> Expected)
{
    public string Where => $"{File}:{Line}";
    public override string ToString() => $"{Where}: {Text}";
}

/// <summary>
/// Parses <c>bytes=f0 80 27 fd bits=64 -> pt=1 string=0 rep=0 lock=1 size=1</c> lines; <c>#</c>
/// starts a comment. Unknown, duplicate or missing keys and bad values are errors naming file and line.
/// </summary>
internal static class ClassifyVectorParser
{
    public static readonly string[] InputKeys = ["bytes", "bits"];
    public static readonly string[] FlagKeys = ["pt", "string", "rep", "lock", "mem"];
    public static readonly string[] RequiredExpected = ["pt", "string", "rep", "lock", "size"];
    public static readonly string[] OptionalExpected = ["mem", "mnemonic"];

    public static List<ClassifyVector> ParseFile(string path) => Parse(Path.GetFileName(path), File.ReadAllLines(path));

    public static List<ClassifyVector> Parse(string file, IEnumerable<string> lines)
    {
        var vectors = new List<ClassifyVector>();
        int number = 0;
        foreach (string raw in lines)
        {
            number++;
            int hash = raw.IndexOf('#');
            string text = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (text.Length == 0) continue;
            FormatException Error(string message) => new($"{file}:{number}: {message} in '{text}'");

            int arrow = text.IndexOf("->", StringComparison.Ordinal);
            if (arrow < 0) throw Error("missing '->' between the instruction and the expected class");
            if (text.IndexOf("->", arrow + 2, StringComparison.Ordinal) >= 0) throw Error("more than one '->'");
            var input = Pairs(text[..arrow], InputKeys, Error);
            var expected = Pairs(text[(arrow + 2)..], [.. RequiredExpected, .. OptionalExpected], Error);

            foreach (var key in InputKeys)
                if (!input.ContainsKey(key)) throw Error($"missing '{key}='");
            foreach (var key in RequiredExpected)
                if (!expected.ContainsKey(key)) throw Error($"missing expected '{key}='");

            if (!int.TryParse(input["bits"], NumberStyles.None, CultureInfo.InvariantCulture, out int bits) || bits is not (32 or 64))
                throw Error($"bits must be 32 or 64, not '{input["bits"]}'");
            var bytes = new List<byte>();
            foreach (var token in input["bytes"].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (token.Length != 2 || !byte.TryParse(token, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b))
                    throw Error($"'{token}' is not a hex byte");
                bytes.Add(b);
            }
            if (bytes.Count is 0 or > 15) throw Error($"an instruction has 1 to 15 bytes, not {bytes.Count}");
            foreach (var key in FlagKeys)
                if (expected.TryGetValue(key, out var v) && v is not ("0" or "1"))
                    throw Error($"'{key}' must be 0 or 1, not '{v}'");
            if (!int.TryParse(expected["size"], NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size is not (0 or 1 or 2 or 4 or 8 or 16))
                throw Error($"size must be 0, 1, 2, 4, 8 or 16, not '{expected["size"]}'");
            if (expected.TryGetValue("mnemonic", out var mnemonic) && !Enum.TryParse<Mnemonic>(mnemonic, ignoreCase: true, out _))
                throw Error($"'{mnemonic}' is not an Iced mnemonic");

            vectors.Add(new ClassifyVector(file, number, text, [.. bytes], bits, expected));
        }
        return vectors;
    }

    /// <summary>key=value pairs; a value runs until the next token with '=' (so bytes can hold spaces).</summary>
    private static Dictionary<string, string> Pairs(string part, string[] allowed, Func<string, FormatException> error)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        string? current = null;
        foreach (var token in part.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = token.IndexOf('=');
            if (eq < 0)
            {
                if (current is null) throw error($"'{token}' is not key=value");
                pairs[current] = (pairs[current] + " " + token).Trim();
                continue;
            }
            string key = token[..eq];
            if (!allowed.Contains(key))
                throw error($"unknown key '{key}' (expected {string.Join(", ", allowed)})");
            if (pairs.ContainsKey(key)) throw error($"duplicate key '{key}'");
            pairs[key] = token[(eq + 1)..];
            current = key;
        }
        return pairs;
    }
}

public sealed class ClassificationTests
{
    private static readonly Lazy<List<ClassifyVector>> Vectors = new(() =>
        ClassifyVectorParser.ParseFile(Path.Combine(AppContext.BaseDirectory, "Vectors", "classify.txt")));

    public static TheoryData<int> VectorLines()
    {
        var data = new TheoryData<int>();
        foreach (var v in Vectors.Value) data.Add(v.Line);
        return data;
    }

    private static ClassifyVector At(int line) => Vectors.Value.Single(v => v.Line == line);

    [Fact]
    public void Vector_file_covers_the_whole_page_table_writing_set_and_its_neighbours()
    {
        var mnemonics = Vectors.Value
            .GroupBy(v => Decode(v).Mnemonic)
            .ToDictionary(g => g.Key, g => g.ToList());
        foreach (var m in new[] { Mnemonic.Or, Mnemonic.And, Mnemonic.Xchg, Mnemonic.Mov, Mnemonic.Bts, Mnemonic.Btc, Mnemonic.Cmpxchg, Mnemonic.Cmpxchg8b })
            Assert.True(mnemonics.TryGetValue(m, out var vs) && vs.Any(v => v.Expected["pt"] == "1"), $"no pt=1 vector for {m}");
        foreach (var m in new[] { Mnemonic.Btr, Mnemonic.Add, Mnemonic.Sub, Mnemonic.Xor, Mnemonic.Stosb, Mnemonic.Stosq, Mnemonic.Movsb, Mnemonic.Movsq })
            Assert.True(mnemonics.ContainsKey(m), $"no vector for {m}");
        Assert.Contains(Vectors.Value, v => v.Bitness == 32);
        Assert.True(Vectors.Value.Count >= 60);
    }

    [Theory]
    [MemberData(nameof(VectorLines))]
    public void Vector_classifies_as_expected(int line)
    {
        var v = At(line);
        var ins = Decode(v);
        var c = InstructionClass.Of(ins);
        var actual = new Dictionary<string, string>
        {
            ["pt"] = c.IsPageTableWriting ? "1" : "0",
            ["string"] = c.IsString ? "1" : "0",
            ["rep"] = c.IsRep ? "1" : "0",
            ["lock"] = c.IsLock ? "1" : "0",
            ["mem"] = c.HasMemoryOperand ? "1" : "0",
            ["size"] = c.MemoryOperandSize.ToString(CultureInfo.InvariantCulture),
            ["mnemonic"] = c.Mnemonic.ToString(),
        };
        Assert.Equal(ins.Mnemonic, c.Mnemonic);
        Assert.Equal(c.IsPageTableWriting, InstructionClass.IsPageTableWritingInstruction(ins));
        foreach (var (key, want) in v.Expected)
        {
            bool same = key == "mnemonic" ? string.Equals(want, actual[key], StringComparison.OrdinalIgnoreCase) : want == actual[key];
            Assert.True(same, $"{v}: {key} is {actual[key]}, expected {want} (decoded '{Interpreter.Format(ins)}')");
        }
    }

    /// <summary>
    /// The class a real fault reports agrees with the vector: every instruction runs with all data
    /// frames write-protected; those that write memory fault, and the fault carries that class.
    /// </summary>
    [Theory]
    [MemberData(nameof(VectorLines))]
    public void Faulting_vector_reports_the_same_class(int line)
    {
        var v = At(line);
        var m = new Machine(v.Bitness);
        ulong entry = m.Load([.. v.Bytes, 0xc3]);
        for (int r = 0; r < 16; r++)
            if (r != 4 && (v.Bitness == 64 || r < 8)) m.Cpu.Gpr[r] = Machine.DataBase + 0x100;
        m.Cpu.Rflags = Flags.Reserved;
        for (ulong gfn = Machine.DataBase >> 12; gfn < Machine.MemorySize >> 12; gfn++) m.Gate.Protected.Add(gfn);

        var result = m.Call(entry);
        Assert.NotEqual(ExecutionStatus.Error, result.Status);
        if (v.Expected["pt"] == "1")
            Assert.Equal(ExecutionStatus.WriteFault, result.Status);
        if (result.Status != ExecutionStatus.WriteFault) return;

        var f = result.Fault;
        Assert.Equal(entry, f.Rip);
        Assert.Equal(entry, m.Cpu.Rip);
        Assert.Equal(v.Expected["pt"] == "1", f.Class.IsPageTableWriting);
        Assert.Equal(v.Expected["string"] == "1", f.Class.IsString);
        Assert.Equal(v.Expected["rep"] == "1", f.Class.IsRep);
        Assert.Equal(v.Expected["lock"] == "1", f.Class.IsLock);
        Assert.Equal(int.Parse(v.Expected["size"], CultureInfo.InvariantCulture), f.Size);
        Assert.True(f.Address >= Machine.DataBase, $"{v}: fault at 0x{f.Address:x}");
    }

    [Fact]
    public void Parser_reads_keys_values_and_comments()
    {
        var vs = ClassifyVectorParser.Parse("t.txt",
        [
            "# a comment",
            "",
            "bytes=f0 80 27 fd bits=64 -> pt=1 string=0 rep=0 lock=1 size=1   # trailing comment",
            "  bytes=f3 48 ab   bits=64 -> mnemonic=Stosq pt=0 string=1 rep=1 lock=0 size=8 mem=1",
        ]);
        Assert.Equal(2, vs.Count);
        Assert.Equal(3, vs[0].Line);
        Assert.Equal(new byte[] { 0xf0, 0x80, 0x27, 0xfd }, vs[0].Bytes);
        Assert.Equal(64, vs[0].Bitness);
        Assert.Equal("1", vs[0].Expected["lock"]);
        Assert.Equal("Stosq", vs[1].Expected["mnemonic"]);
        Assert.Equal("t.txt:4", vs[1].Where);
    }

    [Theory]
    [InlineData("bytes=90 bits=64 -> pt=0 string=0 rep=0 lock=0 size=0 wat=1", "unknown key 'wat'")]
    [InlineData("bytes=90 bitz=64 -> pt=0 string=0 rep=0 lock=0 size=0", "unknown key 'bitz'")]
    [InlineData("bytes=90 bits=64 pt=0 -> string=0 rep=0 lock=0 size=0", "unknown key 'pt'")]
    [InlineData("bytes=90 bits=64", "missing '->'")]
    [InlineData("bytes=90 bits=64 -> pt=0 string=0 rep=0 lock=0", "missing expected 'size='")]
    [InlineData("bits=64 -> pt=0 string=0 rep=0 lock=0 size=0", "missing 'bytes='")]
    [InlineData("bytes=9g bits=64 -> pt=0 string=0 rep=0 lock=0 size=0", "'9g' is not a hex byte")]
    [InlineData("bytes=90 bits=16 -> pt=0 string=0 rep=0 lock=0 size=0", "bits must be 32 or 64")]
    [InlineData("bytes=90 bits=64 -> pt=2 string=0 rep=0 lock=0 size=0", "'pt' must be 0 or 1")]
    [InlineData("bytes=90 bits=64 -> pt=0 pt=1 string=0 rep=0 lock=0 size=0", "duplicate key 'pt'")]
    [InlineData("bytes=90 bits=64 -> pt=0 string=0 rep=0 lock=0 size=3", "size must be")]
    [InlineData("bytes=90 bits=64 -> pt=0 string=0 rep=0 lock=0 size=0 mnemonic=frob", "'frob' is not an Iced mnemonic")]
    [InlineData("junk bytes=90 bits=64 -> pt=0 string=0 rep=0 lock=0 size=0", "'junk' is not key=value")]
    [InlineData("bytes=90 bits=64 -> pt=0 -> string=0 rep=0 lock=0 size=0", "more than one '->'")]
    public void Parser_rejects_bad_lines_naming_file_and_line(string line, string fragment)
    {
        var e = Assert.Throws<FormatException>(() => ClassifyVectorParser.Parse("vec.txt", ["# header", line]));
        Assert.StartsWith("vec.txt:2: ", e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void Fault_class_is_the_class_of_the_fault_instruction()
    {
        var ins = Asm.Decode(64, [0xf0, 0x80, 0x27, 0xfd]);
        var fault = new WriteFault(0x1000, 1, 0x65, 0, ins, 0);
        Assert.Equal(InstructionClass.Of(ins), fault.Class);
        Assert.Equal(1UL, fault.Gfn);
    }

    private static Instruction Decode(ClassifyVector v)
    {
        var decoder = Decoder.Create(v.Bitness, new ByteArrayCodeReader(v.Bytes));
        var ins = decoder.Decode();
        Assert.False(ins.Code == Code.INVALID, $"{v}: does not decode");
        Assert.True(ins.Length == v.Bytes.Length, $"{v}: decodes as '{Interpreter.Format(ins)}' of {ins.Length} bytes, not {v.Bytes.Length}");
        return ins;
    }
}
