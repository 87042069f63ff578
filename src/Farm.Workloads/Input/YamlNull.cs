using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Farm.Workloads.Input;

/// <summary>YAML's null (YAML 1.2 core schema): a plain (unquoted) scalar <c>~</c>, <c>null</c>, <c>Null</c>, <c>NULL</c> or nothing at all; <c>"~"</c> is text.</summary>
public static class YamlNull
{
    public static bool Is(YamlNode node) => node is YamlScalarNode s
        && (s.Value is null || (s.Style == ScalarStyle.Plain && s.Value is "" or "~" or "null" or "Null" or "NULL"));
}
