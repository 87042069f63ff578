using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace Farm.Cluster.Http;

/// <summary>
/// The API's contract: an OpenAPI document built from the routes and their declared bodies
/// (Microsoft.AspNetCore.OpenApi), served at <see cref="OpenApiPath"/> and checked in as
/// docs/openapi.json (OpenApiContractTests compares the two).
/// </summary>
public static partial class FarmHttpApi
{
    public const string OpenApiPath = "/openapi/v1.json";
    private const string OpenApiRoute = "/openapi/{documentName}.json";

    private static IServiceCollection AddFarmOpenApi(this IServiceCollection services) => services.AddOpenApi("v1", o =>
    {
        o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Farm HTTP API",
                Version = "v1",
                Description = "The coordinator's API: submit sweeps, follow their progress, read results and reports (docs/cluster.md). "
                    + "Every error is a JSON body {\"error\": \"...\"} with a status that says what kind.",
            };
            document.Servers = []; // the address is the deployment's, not the contract's
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
            {
                ["bearer"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http, Scheme = "bearer",
                    Description = "Required when the API listens on anything but loopback (--token-file, FARM_API_TOKEN); not for /health and this document",
                },
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] }];
            return Task.CompletedTask;
        });
        // The submit body, by hand: the handler reads it itself (a typed parameter would refuse a bare spec).
        o.AddOperationTransformer(async (operation, context, cancel) =>
        {
            if (context.Description.HttpMethod != "POST" || context.Description.RelativePath != "api/sweeps") return;
            var envelope = await context.GetOrCreateSchemaAsync(typeof(SubmitRequest), null, cancel);
            context.Document!.AddComponent(nameof(SubmitRequest), envelope);
            var spec = new OpenApiSchema { Type = JsonSchemaType.String, Description = "the sweep spec's text (docs/sweeps.md)" };
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = $"The submit envelope ({EnvelopeType}) with the text of every workload file the spec names; "
                    + "a bare spec, YAML or JSON, only when it names no workload file",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [EnvelopeType] = new() { Schema = new OpenApiSchemaReference(nameof(SubmitRequest), context.Document) },
                    ["application/yaml"] = new() { Schema = spec },
                    ["application/json"] = new() { Schema = spec },
                },
            };
        });
    });

    /// <summary>The error statuses a route may answer, each with an <see cref="ApiError"/> body.</summary>
    private static RouteHandlerBuilder ProducesErrors(this RouteHandlerBuilder route, params int[] statuses)
    {
        foreach (int status in statuses) route.Produces<ApiError>(status);
        return route;
    }
}
