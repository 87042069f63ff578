using System.Text.Json.Serialization;

namespace Farm.Cluster.Http;

/// <summary>The API's bodies, serialized by source-generated code: snake_case names, absent rather than null.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(SubmitRequest))]
[JsonSerializable(typeof(SubmitResponse))]
[JsonSerializable(typeof(SweepProgress))]
[JsonSerializable(typeof(IReadOnlyList<SweepProgress>))]
[JsonSerializable(typeof(CancelResponse))]
[JsonSerializable(typeof(SweepResult))]
[JsonSerializable(typeof(IReadOnlyList<SweepResult>))]
public sealed partial class FarmJsonContext : JsonSerializerContext;
