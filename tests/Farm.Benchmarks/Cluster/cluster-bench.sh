#!/usr/bin/env bash
# Cluster benchmarks, measured in one run (issue 6):
#  1. coordinator overhead per trial: a sweep of 1,000 trivial trials on the embedded farm;
#  2. throughput of CPU-bound trials with two worker processes against one.
# Usage: tests/Farm.Benchmarks/Cluster/cluster-bench.sh   (builds Release first)
set -euo pipefail
cd "$(dirname "$0")/../../.."
dotnet build src/Farm.Cli -c Release -v q -nologo >/dev/null
F="dotnet src/Farm.Cli/bin/Release/net10.0/farm.dll"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# 1. 1,000 trivial trials (one page, sequential engine).
cat > "$work/trivial.yaml" <<YAML
name: trivial
workload: $PWD/workloads/micro/wrprotect.yaml
base: { workload.pages: 1, engine: sequential }
seeds: 1000
YAML
sed 's/seeds: 1000/seeds: 1/; s/name: trivial/name: one/' "$work/trivial.yaml" > "$work/one.yaml"
t0=$(date +%s.%N); $F sweep "$work/one.yaml" -o "$work/one" --slots 2 >/dev/null 2>&1; t1=$(date +%s.%N)
$F sweep "$work/trivial.yaml" -o "$work/trivial" --slots 2 >/dev/null 2>&1
t2=$(date +%s.%N)
python3 - "$work/trivial/results.json" "$t0" "$t1" "$t2" <<'PY'
import json, sys
items = json.load(open(sys.argv[1])); t0, t1, t2 = map(float, sys.argv[2:5])
fixed = t1 - t0; wall = t2 - t1; trial = sum(i["result"]["run"]["wall_seconds"] for i in items)
over = (wall - fixed - trial / 2) / len(items)
print(f"1. {len(items)} trivial trials: {wall:.2f} s wall; node start/stop (a 1-trial sweep) {fixed:.2f} s; trials themselves {trial:.2f} s"
      f" on 2 slots; farm overhead per trial {1000*over:.2f} ms")
PY

# 2. CPU-bound trials: 1 worker process, then 2 (one slot each).
cat > "$work/cpu.yaml" <<YAML
name: cpu-bound
workload: $PWD/workloads/micro/pt-clear.yaml
base: { workload.rounds: 1500, engine: sequential }
axes: { policy: [kvm-3.1, kvm-3.3] }
seeds: 4
YAML
run_with() {
  local workers=$1
  local port=$((25700 + workers * 10))
  local http=$((8800 + workers))
  $F serve --roles coordinator --port $port --db "$work/cpu-$workers.db" --http http://127.0.0.1:$http --config cluster-config/local.conf >/dev/null 2>&1 &
  sleep 3
  for i in $(seq 1 "$workers"); do
    $F serve --roles worker --port $((port + i)) --seed-nodes akka.tcp://farm@127.0.0.1:$port --slots 1 --config cluster-config/local.conf >/dev/null 2>&1 &
  done
  sleep 6
  local t0 id
  t0=$(date +%s.%N)
  id=$($F submit "$work/cpu.yaml" --api http://127.0.0.1:$http | python3 -c 'import json,sys; print(json.load(sys.stdin)["sweep"])')
  # Poll with curl: a dotnet process per poll would take a core from the workers.
  until curl -s "http://127.0.0.1:$http/api/sweeps/$id" | grep -q '"complete":true'; do sleep 0.5; done
  python3 -c "import time; print(f'{time.time() - $t0:.2f}')"
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
}
one=$(run_with 1); two=$(run_with 2)
python3 -c "print(f'2. 8 CPU-bound trials: 1 worker {$one} s, 2 workers {$two} s: speed-up {$one/$two:.2f}x')"
