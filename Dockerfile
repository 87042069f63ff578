# syntax=docker/dockerfile:1
# One image for every farm node; the role is configuration (the arguments of `farm serve`, see k8s/).
#   docker build -t farm:dev .
# The build stage runs build/publish.sh, the publish command tests/Farm.Deploy.Tests also runs.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props ./
# Farm.Cluster embeds cluster-config/serialization.conf.
COPY cluster-config/ cluster-config/
COPY src/ src/
COPY build/ build/
# The cache mount keeps NuGet packages between builds without putting them in a layer.
RUN --mount=type=cache,target=/root/.nuget/packages bash build/publish.sh /app

# aspnet, not runtime: the coordinator's HTTP API runs on ASP.NET Core.
FROM mcr.microsoft.com/dotnet/aspnet:10.0
# Report plots measure and draw their text with a TrueType font; the base image has none.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app /app
# Logs as one JSON object a line on stderr, for the cluster's log collector (docs/cluster.md, "Logs");
# `farm serve --log-format human` or FARM_LOG_FORMAT=human in a pod spec switches back.
ENV FARM_LOG_FORMAT=json
# The base image's non-root "app" user (UID 1654); the pods in k8s/ run as the same UID.
USER $APP_UID
ENTRYPOINT ["/app/farm"]
