#!/usr/bin/env bash
# Cluster benchmarks, measured in one run (issue 6):
#  1. coordinator overhead per trial: a sweep of 1,000 trivial trials on the embedded farm (a fresh
#     `farm sweep` process: its JIT and the report included, as quoted since issue 6); then the same
#     trials on warm `farm serve` nodes (1b below): the farm's own cost per trial, start-up excluded;
#  2. throughput of CPU-bound trials with two worker processes (one slot each) against one: the
#     same sweep of equal trials in both cases, from its submission to its last stored result,
#     with the coordinator process on the same cores, after the same warm-up in both cases (a
#     young .NET process spends its first minute compiling; a farm's nodes run for hours).
#     Each case runs the sweep REPEATS times (new seeds each time) and keeps the best and the
#     median. The machine is measured too, before and after: the same trials in one `farm run`
#     process and in two at once, without a farm: what two cores give right now (shared machines).
#     Prints where the time goes: each worker's busy share, the idle gap between a worker's
#     trials, CPU seconds per process, and what other processes on the machine used meanwhile.
# Usage: tests/Farm.Benchmarks/Cluster/cluster-bench.sh [TRIALS [ROUNDS [WARM [REPEATS [PARTS]]]]]   (builds Release first)
#   TRIALS: CPU-bound trials in a measured sweep (default 16, even so that two workers split it);
#   ROUNDS: pt-clear rounds a trial (default 15000: 1.2-1.5 s a trial on a 2.1 GHz EPYC core, as the
#     benchmark has been defined since issue 6; 5000 gave that before the speed rounds, 0.45 s now);
#   WARM: seconds the nodes run before the first measured sweep (default 60; 0: fresh processes; also 1b's);
#   REPEATS: measured sweeps a case (default 3);
#   PARTS: which measurements, "12" (default), "1" or "2"; "b": 1b alone (warm nodes, with the `farm run`
#     processes it subtracts), the figure to compare two builds side by side.
# FARM_BENCH_PORT_OFFSET (default 0) moves every port the nodes use, so that a before and an after
# build can be measured side by side (started together: the machine's speed varies by the minute).
set -euo pipefail
cd "$(dirname "$0")/../../.."
trials=${1:-16}
rounds=${2:-15000}
warm=${3:-60}
repeats=${4:-3}
parts=${5:-12}
off=${FARM_BENCH_PORT_OFFSET:-0}
dotnet build src/Farm.Cli -c Release -v q -nologo >/dev/null
F="dotnet src/Farm.Cli/bin/Release/net10.0/farm.dll"
work=$(mktemp -d)
pids=()
stop_nodes() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'stop_nodes; rm -rf "$work"' EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average $(load)"

# 1. 1,000 trivial trials (one page, sequential engine): the farm's overhead per trial, in wall
#    time (less the node's start-up and the trials' own time on 2 slots) and in CPU time (less the
#    same trials' CPU in one `farm run` process: robust to other processes taking the cores).
cat > "$work/trivial.yaml" <<YAML
name: trivial
workload: $PWD/workloads/micro/wrprotect.yaml
base: { workload.pages: 1, engine: sequential }
seeds: 1000
YAML
sed 's/seeds: 1000/seeds: 1/; s/name: trivial/name: one/' "$work/trivial.yaml" > "$work/one.yaml"
timed() { /usr/bin/time -f '%e %U %S' -o "$work/$1.time" "${@:2}" >/dev/null 2>&1; } # NAME COMMAND...: wall, user, sys seconds
trivial_run=(run workloads/micro/wrprotect.yaml --set workload.pages=1 --set engine=sequential --format json --seeds)
if [[ $parts == *1* ]]; then
timed one $F sweep "$work/one.yaml" -o "$work/one" --slots 2
timed trivial $F sweep "$work/trivial.yaml" -o "$work/trivial" --slots 2
# The same trials without a farm, one process, one after another: what they cost in CPU themselves.
timed run-one $F "${trivial_run[@]}" 1
timed run-trivial $F "${trivial_run[@]}" 1000
python3 - "$work" "$(load)" <<'PY'
import json, sqlite3, sys
from datetime import datetime
work, load = sys.argv[1], sys.argv[2]
t = {n: list(map(float, open(f"{work}/{n}.time").read().split()[-3:])) for n in ("one", "trivial", "run-one", "run-trivial")}
items = json.load(open(f"{work}/trivial/results.json"))
fixed, wall = t["one"][0], t["trivial"][0]
trial = sum(i["result"]["run"]["wall_seconds"] for i in items)
over = (wall - fixed - trial / 2) / len(items)
# Inside the sweep, from the store's own timestamps (farm sweep has stopped: the store is free):
# submission to the last result stored, without the node's start-up and the report.
db = sqlite3.connect(f"{work}/trivial/farm.db")
ts = lambda text: datetime.fromisoformat(text).timestamp()
created = ts(db.execute("SELECT created FROM sweeps").fetchone()[0])
last = max(ts(u) for (u,) in db.execute("SELECT updated FROM trials"))
span = last - created
cpu = lambda n: t[n][1] + t[n][2]
cpu_over = ((cpu("trivial") - cpu("one")) - (cpu("run-trivial") - cpu("run-one"))) / (len(items) - 1)
print(f"1. {len(items)} trivial trials: {wall:.2f} s wall; node start/stop (a 1-trial sweep) {fixed:.2f} s; trials themselves {trial:.2f} s"
      f" on 2 slots; farm overhead per trial {1000*over:.2f} ms wall")
print(f"   inside the sweep (store timestamps): submission to last result {span:.2f} s; less the trials' own time on 2 slots:"
      f" {1000 * (span - trial / 2) / len(items):.2f} ms a trial")
print(f"   CPU: the sweeps {cpu('trivial'):.2f} s (1,000 trials) and {cpu('one'):.2f} s (1); the same trials in one `farm run` process"
      f" {cpu('run-trivial'):.2f} s and {cpu('run-one'):.2f} s: {1000*cpu_over:.2f} ms of CPU a trial more in the farm"
      f" (the report of 1,000 trials and the nodes' idle ticks included); load average {load}")
PY
fi

# 2. CPU-bound trials: pt-clear under kvm-3.1, all of one length; seeds differ, so each is its own trial.
sweep() { # NAME FIRST-SEED COUNT
  cat <<YAML
name: $1
workload: $PWD/workloads/micro/pt-clear.yaml
base: { workload.rounds: $rounds, engine: sequential, policy: kvm-3.1, seed: $2 }
seeds: $3
YAML
}
sed "s/name: trivial/name: warm-up-trivial/; s/seeds: 1000/seeds: 200/" "$work/trivial.yaml" > "$work/warm-trivial.yaml"

# What the machine gives: TRIALS/2 such trials in one `farm run` process, then in each of two at once;
# the trials' own wall times, the first of each process (JIT) left out.
machine() {
  local half=$((trials / 2))
  run() { $F run workloads/micro/pt-clear.yaml --policy kvm-3.1 --set workload.rounds="$rounds" --set engine=sequential \
            --seed "$1" --seeds "$half" --format json > "$2" 2>/dev/null; }
  run 1 "$work/alone.json"
  run 1 "$work/pair-1.json" & local a=$!; run 1001 "$work/pair-2.json" & local b=$!; wait $a $b
  python3 - "$work" "$(load)" <<'PY'
import json, sys
wall = lambda f: [t["run"]["wall_seconds"] for t in json.load(open(f"{sys.argv[1]}/{f}.json"))[1:]]
alone = wall("alone"); pair = wall("pair-1") + wall("pair-2")
a, b = sum(alone) / len(alone), sum(pair) / len(pair)
print(f"   machine, no farm: a trial takes {a:.2f} s alone, {b:.2f} s two at once (2 processes): {2 * a / b:.2f}x; load average {sys.argv[2]}")
PY
}

submit() { # API FILE -> sweep id (farm submit ships the workload file's text: the API opens no client path)
  $F submit --api "$1" "$2" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["sweep"])'
}
wait_complete() { # API ID
  until curl -sf "$1/api/sweeps/$2" | grep -q '"complete":true'; do sleep 0.5; done
}
cpu_ticks() { for p in "${pids[@]}"; do awk '{print $14 + $15}' "/proc/$p/stat"; done | paste -sd' '; }
machine_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; } # busy jiffies, all cores

run_with() { # WORKERS: prints a line of JSON (best and median trials/s), then the report
  local n=$1 port=$((25700 + off + $1 * 10)) api="http://127.0.0.1:$((8800 + off + $1))" d="$work/case-$1" started id
  mkdir -p "$d"
  started=$(date +%s)
  FARM_LOG_FORMAT=json $F serve --roles coordinator --port "$port" --db "$d/farm.db" --http "$api" --config cluster-config/local.conf \
    >"$d/coordinator.log" 2>&1 &
  pids+=($!)
  for i in $(seq 1 "$n"); do
    $F serve --roles worker --port $((port + i)) --seed-nodes "akka.tcp://farm@127.0.0.1:$port" --slots 1 \
      --config cluster-config/local.conf >"$d/worker-$i.log" 2>&1 &
    pids+=($!)
  done
  until curl -sf "$api/health" >/dev/null; do sleep 0.2; done
  for i in $(seq 1 "$n"); do until grep -q '^ready' "$d/worker-$i.log"; do sleep 0.2; done; done
  # Warm-up: 200 trivial trials for the coordinator's and the workers' per-trial code (tiered JIT
  # with PGO compiles a method again after some 30 and 60 calls), two CPU-bound trials (other
  # seeds) on every worker for the simulator, then the rest of WARM seconds for what runs once a
  # second or so (gossip, heartbeats, the script's status requests).
  if [ "$warm" -gt 0 ]; then
    id=$(submit "$api" "$work/warm-trivial.yaml"); wait_complete "$api" "$id"
    local round=0
    while :; do
      sweep warm-up $((100000 + round * 1000)) $((2 * n)) > "$d/warm.yaml"
      id=$(submit "$api" "$d/warm.yaml"); wait_complete "$api" "$id"
      # Who ran what, from the coordinator's log (the store is the coordinator's alone while it runs).
      python3 - "$d/coordinator.log" "$id" "$n" <<'PY' && break
import json, sys
log, sweep, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
counts = {}
for line in open(log):
    try: e = json.loads(line)
    except ValueError: continue
    if e.get("Category") == "Farm.Coordinator" and e.get("EventId") == 1003 and sweep in e["State"]["SweepId"].split(","):
        counts[e["State"]["WorkerId"]] = counts.get(e["State"]["WorkerId"], 0) + 1
sys.exit(0 if len(counts) == n and all(c >= 2 for c in counts.values()) else 1)
PY
      round=$((round + 1))
      if [ $round -ge 5 ]; then echo "warm-up: not every worker took part" >&2; exit 1; fi
    done
    # Till then, ask for the status as the measured runs will (the HTTP API's code compiles too).
    while [ "$(date +%s)" -lt $((started + warm)) ]; do curl -sf "$api/api/sweeps/$id" >/dev/null; sleep 0.5; done
  fi
  local r c0 m0 t0 c1 m1 t1
  : > "$d/runs"
  for r in $(seq 1 "$repeats"); do
    sweep cpu-bound $((1 + (r - 1) * trials)) "$trials" > "$d/cpu.yaml"
    c0=$(cpu_ticks); m0=$(machine_ticks); t0=$(date +%s.%N)
    id=$(submit "$api" "$d/cpu.yaml")
    wait_complete "$api" "$id"
    c1=$(cpu_ticks); m1=$(machine_ticks); t1=$(date +%s.%N)
    echo "$id $t0 $t1 $m0 $m1 $c0 / $c1" >> "$d/runs"
  done
  stop_nodes # the store is held exclusively by its coordinator (issue 16): read once it stopped
  python3 - "$d/farm.db" "$d/runs" "$n" "$(getconf CLK_TCK)" "$(load)" <<'PY'
import json, sqlite3, statistics, sys
from datetime import datetime
db, n, hz, load = sqlite3.connect(sys.argv[1]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
lines, rates, stored_rates = [], [], []
for run in open(sys.argv[2]):
    head, c1 = run.split(" / "); head = head.split()
    sweep, t0, t1, m0, m1 = head[0], float(head[1]), float(head[2]), int(head[3]), int(head[4])
    c0, c1 = [int(x) for x in head[5:]], [int(x) for x in c1.split()]
    runs = {}
    for worker, updated, result in db.execute("""SELECT t.worker, t.updated, t.result FROM sweep_trials st JOIN trials t ON t.id = st.trial_id
                                                 WHERE st.sweep_id = ? AND t.status = 'done'""", (sweep,)):
        end = datetime.fromisoformat(updated).timestamp() - t0  # stored by the coordinator
        runs.setdefault(worker, []).append((end - json.loads(result)["run"]["wall_seconds"], end))
    count = sum(len(r) for r in runs.values())
    span = max(e for r in runs.values() for _, e in r)
    # From the sweep stored (the coordinator's clock, as the results' times), not from before `farm
    # submit` started: the CLI's start-up (1-2 s under load) is no part of the farm's throughput, and
    # in the shorter two-worker span it weighed twice as much.
    stored = datetime.fromisoformat(db.execute("SELECT created FROM sweeps WHERE id = ?", (sweep,)).fetchone()[0]).timestamp() - t0
    busy = [sum(e - s for s, e in r) / span for r in runs.values()]
    gaps = [b[0] - a[1] for r in runs.values() for a, b in zip(sorted(r), sorted(r)[1:])]
    first = min(s for r in runs.values() for s, _ in r)
    cpu = [(b - a) / hz for a, b in zip(c0, c1)]
    others = ((m1 - m0) / hz - sum(cpu)) / (t1 - t0)  # t1: when the sweep was seen complete
    rates.append(count / span)
    stored_rates.append(count / (span - stored))
    lines.append(f"   {n} worker(s): {count} trials in {span:.2f} s = {count / span:.3f} trials/s"
                 f" ({span - stored:.2f} s = {count / (span - stored):.3f} trials/s from the sweep stored, {1000 * stored:.0f} ms after `farm submit` started);"
                 f" trials a worker "
                 f"{'/'.join(str(len(r)) for r in runs.values())}, busy {'/'.join(f'{100 * b:.0f}%' for b in busy)};"
                 f" first trial started {1000 * first:.0f} ms after submission; gap between a worker's trials"
                 f" {1000 * sum(gaps) / max(1, len(gaps)):.0f} ms mean, {1000 * max(gaps, default=0):.0f} ms max;"
                 f" CPU s: coordinator {cpu[0]:.2f}, workers {' '.join(f'{c:.2f}' for c in cpu[1:])} ({sum(cpu[1:]) / count:.2f} a trial);"
                 f" other processes {others:.2f} cores")
print(json.dumps({"best": max(rates), "median": statistics.median(rates),
                  "best_stored": max(stored_rates), "median_stored": statistics.median(stored_rates)}))
print("\n".join(lines))
print(f"   {n} worker(s): best {max(rates):.3f} trials/s, median {statistics.median(rates):.3f};"
      f" from the sweep stored: best {max(stored_rates):.3f}, median {statistics.median(stored_rates):.3f}; load average {load}")
PY
}


# 1b. The farm's own cost per trial, without start-up: the same 1,000 trivial trials on warm `farm
#     serve` nodes (a coordinator process and a worker process of 2 slots, as a farm runs for hours),
#     after trivial sweeps of 200 for WARM seconds (at least two: the tiered JIT has compiled the
#     per-trial code again by then). The coordinator's CPU a trial is the target's figure itself;
#     the worker's CPU less the trials' own (from the `farm run` processes above) is the farm's part on
#     a worker; the wall time less the trials' own on 2 slots is what a trial waits for the farm. The
#     nodes' idle CPU (gossip, heartbeats, timer ticks), measured just before, is printed beside it:
#     it is paid per second, not per trial, and weighs more the longer a trial takes.
warm_trivial() {
  local port=$((25790 + off)) api="http://127.0.0.1:$((8890 + off))" d="$work/warm-nodes" started id r c0 c1 t0 t1 i0 i1
  mkdir -p "$d"
  started=$(date +%s)
  FARM_LOG_FORMAT=json $F serve --roles coordinator --port "$port" --db "$d/farm.db" --http "$api" --config cluster-config/local.conf \
    >"$d/coordinator.log" 2>&1 &
  pids+=($!)
  $F serve --roles worker --port $((port + 1)) --seed-nodes "akka.tcp://farm@127.0.0.1:$port" --slots 2 \
    --config cluster-config/local.conf >"$d/worker.log" 2>&1 &
  pids+=($!)
  until curl -sf "$api/health" >/dev/null; do sleep 0.2; done
  until grep -q '^ready' "$d/worker.log"; do sleep 0.2; done
  r=0
  while [ $r -lt 2 ] || [ "$(date +%s)" -lt $((started + warm)) ]; do
    r=$((r + 1))
    sed "s/name: trivial/name: warm-up-$r/; s/seeds: 1000/seeds: 200/; s/sequential }/sequential, seed: $((100000 * r)) }/" "$work/trivial.yaml" > "$d/warm.yaml"
    id=$(submit "$api" "$d/warm.yaml"); wait_complete "$api" "$id"
  done
  i0=$(cpu_ticks); sleep 10; i1=$(cpu_ticks)
  c0=$(cpu_ticks); t0=$(date +%s.%N)
  id=$(submit "$api" "$work/trivial.yaml"); wait_complete "$api" "$id"
  c1=$(cpu_ticks); t1=$(date +%s.%N)
  stop_nodes
  python3 - "$d/farm.db" "$id" "$r" "$i0 / $i1 / $c0 / $c1" "$(getconf CLK_TCK)" "$work" "$(load)" "$t0" "$t1" <<'PY'
import json, sqlite3, sys
from datetime import datetime
db, sweep, rounds, ticks, hz, work, load = sqlite3.connect(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6], sys.argv[7]
i0, i1, c0, c1 = ([int(x) for x in part.split()] for part in ticks.split(" / "))
ts = lambda text: datetime.fromisoformat(text).timestamp()
created = ts(db.execute("SELECT created FROM sweeps WHERE id = ?", (sweep,)).fetchone()[0])
rows = db.execute("""SELECT t.updated, t.result FROM sweep_trials st JOIN trials t ON t.id = st.trial_id
                     WHERE st.sweep_id = ? AND t.status = 'done'""", (sweep,)).fetchall()
n = len(rows)
span = max(ts(u) for u, _ in rows) - created
trial = sum(json.loads(r)["run"]["wall_seconds"] for _, r in rows)
t = {m: list(map(float, open(f"{work}/{m}.time").read().split()[-3:])) for m in ("run-one", "run-trivial")}
own = ((t["run-trivial"][1] + t["run-trivial"][2]) - (t["run-one"][1] + t["run-one"][2])) / 999  # a trial's CPU in `farm run`
coord, worker = (c1[0] - c0[0]) / hz, (c1[1] - c0[1]) / hz
idle = [(b - a) / hz / 10 for a, b in zip(i0, i1)]
measured = float(sys.argv[9]) - float(sys.argv[8])  # submission to the sweep seen complete
print(f"   warm nodes (`farm serve`: a coordinator, a worker of 2 slots; {rounds} warm-up sweeps of 200): {n} trivial trials,"
      f" submission to last result {span:.2f} s; less the trials' own time on 2 slots: {1000 * (span - trial / 2) / n:.2f} ms a trial (wall)")
print(f"   CPU a trial: coordinator {1000 * coord / n:.2f} ms ({1000 * (coord - idle[0] * measured) / n:.2f} ms less its idle rate over the"
      f" {measured:.1f} s); worker {1000 * worker / n:.2f} ms, of which the trial's own in `farm run`"
      f" {1000 * own:.2f} ms: the farm's {1000 * (coord + worker - own * n) / n:.2f} ms a trial"
      f" (idle, per second: coordinator {100 * idle[0]:.1f} %, worker {100 * idle[1]:.1f} % of a core); load average {load}")
PY
}

if [[ $parts == *b* && $parts != *1* ]]; then
  timed run-one $F "${trivial_run[@]}" 1
  timed run-trivial $F "${trivial_run[@]}" 1000
fi
if [[ $parts == *1* || $parts == *b* ]]; then warm_trivial; fi

[[ $parts == *2* ]] || exit 0
if [ "$warm" -gt 0 ]; then how="on nodes up for ${warm} s (200 trivial trials, then 2 CPU-bound trials a worker)"; else how="on fresh nodes"; fi
echo "2. $trials CPU-bound trials (pt-clear, $rounds rounds, kvm-3.1) $how, $repeats times a case:"
machine
run_with 1 > "$work/case-1.out"; tail -n +2 "$work/case-1.out"
run_with 2 > "$work/case-2.out"; tail -n +2 "$work/case-2.out"
machine
python3 - "$work/case-1.out" "$work/case-2.out" <<'PY'
import json, sys
one, two = (json.loads(open(f).readline()) for f in sys.argv[1:3])
print(f"   throughput, 2 workers against 1: best {two['best']:.3f} / {one['best']:.3f} trials/s = {two['best'] / one['best']:.2f}x;"
      f" median {two['median']:.3f} / {one['median']:.3f} = {two['median'] / one['median']:.2f}x")
if "best_stored" in one:
    print(f"   the same from the sweep stored (without `farm submit`'s start-up): best {two['best_stored'] / one['best_stored']:.2f}x;"
          f" median {two['median_stored'] / one['median_stored']:.2f}x")
PY
