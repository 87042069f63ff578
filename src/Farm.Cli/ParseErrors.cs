using System.Text.RegularExpressions;

namespace Farm.Cli;

/// <summary>
/// Spectre.Console.Cli reports an option value it cannot convert as "Failed to convert 'abc' to
/// Nullable`1." (and a numeric option given without its value as "Failed to convert
/// '__default_command' …"), naming neither the option nor what is valid. Every numeric option of
/// farm takes a whole number, so the option is found in the arguments and named.
/// </summary>
internal static partial class ParseErrors
{
    [GeneratedRegex(@"^Failed to convert '(?<value>.*)' to [^ ]+\.$", RegexOptions.Singleline)]
    private static partial Regex Conversion();

    public static string Explain(string message, IReadOnlyList<string> args)
    {
        var m = Conversion().Match(message);
        if (!m.Success) return message;
        string value = m.Groups["value"].Value;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (!a.StartsWith('-')) continue;
            int sep = a.IndexOfAny(['=', ':']);
            if (sep > 0 ? a[(sep + 1)..] == value : i + 1 < args.Count && args[i + 1] == value)
                return $"{(sep > 0 ? a[..sep] : a)}: '{value}' is not valid; valid: a whole number (at most 2147483647)";
        }
        // No argument holds the value: an option with nothing after it, or another option next.
        for (int i = 0; i < args.Count; i++)
            if (args[i].StartsWith("--", StringComparison.Ordinal) && args[i].IndexOfAny(['=', ':']) < 0 && (i + 1 == args.Count || args[i + 1].StartsWith('-')))
                return $"{args[i]}: no value given; valid: a whole number";
        return message;
    }
}
