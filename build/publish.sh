#!/usr/bin/env bash
# Publishes the farm command into OUTDIR: the framework-dependent app and its apphost (OUTDIR/farm).
# The one publish command: the Dockerfile's build stage runs it, and tests/Farm.Deploy.Tests runs it
# and then the apphost it produced, so the image and the test cannot drift apart.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: build/publish.sh OUTDIR" >&2
  exit 2
fi
out=$(realpath -m "$1") # relative to the caller, not to the repository
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Framework-dependent: the runtime image brings .NET and ASP.NET Core (the coordinator's HTTP API).
# --os linux: only this architecture's Linux native libraries (SkiaSharp, SQLite), not every platform's.
# UseAppHost: the image's ENTRYPOINT is the native launcher, no `dotnet farm.dll`.
dotnet publish src/Farm.Cli/Farm.Cli.csproj -c Release -o "$out" \
  --os linux --no-self-contained -p:UseAppHost=true
