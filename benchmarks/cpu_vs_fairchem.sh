#!/usr/bin/env bash
# Issue 3 benchmark: energy+forces on the CPU, ours vs fairchem `general` (fp32, merged MoLE), same
# structures (rattled fcc Cu, ~200 and ~2000 atoms), same machine, same thread count, one run.
# Writes benchmarks/results/<date>-cpu-<host>.md. Not a test: nothing asserts a time.
#   benchmarks/cpu_vs_fairchem.sh [THREADS] [SIZES]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
threads="${1:-2}"
sizes="${2:-200,2000}"
py=.venv/bin/python
run=build/src/uma-run
[ -x "$run" ] || { echo "build first: cmake --build build --target uma-run" >&2; exit 1; }
work="$(mktemp -d)"
$py benchmarks/fairchem_cpu_bench.py --threads "$threads" --sizes "$sizes" --repeats 2 --warmup 1 \
    --write-structures "$work" > "$work/fairchem.json"
out="benchmarks/results/$(date +%F)-cpu-$(hostname -s).md"
{
  echo "# CPU energy+forces: uma-run vs fairchem general"
  echo
  echo "date $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), threads $threads, fp32, merged MoLE, model potentials/uma-s-random-k2"
  echo
  echo "| structure | atoms | edges | fairchem s/eval | ours s/eval | speed-up (fairchem/ours) |"
  echo "|---|---|---|---|---|---|"
  for n in ${sizes//,/ }; do
    ours=$($run potentials/uma-s-random-k2.uma "$work/cu_$n.json" --task omat --threads "$threads" --repeat 3 |
           $py -c 'import json,sys; d=json.load(sys.stdin); print(d["seconds_best"], d["nedges"])')
    $py - "$work/fairchem.json" "$n" $ours <<'PY'
import json, sys
res = {r["atoms"]: r for r in json.load(open(sys.argv[1]))["results"]}
n, ours, edges = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
fc = res[n]
print(f"| fcc Cu rattled | {n} | {edges} (fairchem {fc['edges']}) | {fc['seconds_per_eval']:.3f} | {ours:.3f} | {fc['seconds_per_eval']/ours:.2f} |")
PY
  done
  echo
  echo "fairchem: median of 2 calls after 1 warm-up; ours: best of 3 (uma-run, graph build included on both sides)."
} > "$out"
cat "$out"
