#!/usr/bin/env bash
# run-examples.sh — regression runner for the decks in examples/<task>/in.<name>.
#
# Usage: tools/run-examples.sh [--regenerate] [--np N] [--reference-np K] [--only NAME] [--lmp LMP]
#                              <path/to/umaplugin.so>
#   runs each deck with the lmp of tools/build-lammps.sh (lammps.env in $UMA_LAMMPS_DIR, default
#   ${UMA_CACHE:-$HOME/.cache/uma}/lammps-current), or with --lmp LMP, and compares its thermo tables
#   with the newest reference log examples/<task>/log.<date>.<name>.cpu.<np>. The comparison reads
#   numbers only (column names and values, not their layout), so the logs of another LAMMPS version
#   (4Feb2025 prints the thermo table in wider, aligned columns) are judged by the same tolerances.
#   --regenerate  write new reference logs log.<today>.<name>.cpu.<np> instead (old ones removed)
#   --np N        MPI ranks (default 1; mpirun when N > 1)
#   --reference-np K  compare with the reference logs of K ranks (default N): results do not depend on
#                 the decomposition (halo exchange; 2 vs 1 rank ~1e-14 in fp64), so `--np 2
#                 --reference-np 1` checks several-rank runs against the 1-rank references
#   --only NAME   run only decks whose task or name contains NAME
#
# Tolerances (per thermo column, relative to the largest |value| of that column in the reference,
# so that columns crossing zero such as press are judged on their own scale; Step must match):
#   precision fp64 decks: 1e-6. The network runs in double; two builds or machines differ only by
#     summation order (LibTorch threads, BLAS kernels, MPI reductions), ~1e-15 relative per step,
#     and 20-40 MD steps of a few fs amplify that by orders of magnitude less than the 1e9 margin.
#     A real change (a wrong force or weight) moves the thermo output by 1e-3 or more.
#   precision fp32 decks: 1e-4. Single-precision evaluations differ by ~1e-6 relative between
#     summation orders; the same amplification leaves them well inside 1e-4.
# Exit status: 0 if every deck ran and matched, 1 otherwise.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
regenerate=0
LMP=""
np=1
refnp=""
only=""
plugin=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --regenerate) regenerate=1; shift ;;
    --np) np="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --reference-np) refnp="$2"; shift 2 ;;
    --lmp) LMP="$2"; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    -*) echo "run-examples.sh: unknown option '$1'; see --help" >&2; exit 2 ;;
    *) plugin="$1"; shift ;;
  esac
done
refnp="${refnp:-$np}"
[[ -n "$plugin" ]] || { echo "run-examples.sh: give the path of umaplugin.so; see --help" >&2; exit 2; }
[[ -f "$plugin" ]] || { echo "run-examples.sh: no plugin at '$plugin'; build it with -DUMA_ENABLE_LAMMPS=ON" >&2; exit 2; }
plugin="$(cd "$(dirname "$plugin")" && pwd)/$(basename "$plugin")"

if [[ -z "$LMP" ]]; then
  lammps_dir="${UMA_LAMMPS_DIR:-${UMA_CACHE:-$HOME/.cache/uma}/lammps-current}"
  [[ -f "$lammps_dir/lammps.env" ]] || { echo "run-examples.sh: no $lammps_dir/lammps.env; run tools/build-lammps.sh" >&2; exit 2; }
  LMP="$(sed -n 's/^LMP=//p' "$lammps_dir/lammps.env")"
  [[ -x "$LMP" ]] || { echo "run-examples.sh: lmp '$LMP' from lammps.env is not executable; rerun tools/build-lammps.sh" >&2; exit 2; }
fi
[[ -x "$LMP" ]] || { echo "run-examples.sh: lmp '$LMP' is not executable" >&2; exit 2; }

launcher=()
if [[ "$np" -gt 1 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  launcher=(mpirun -np "$np" --oversubscribe)
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
today="$(date +%d%b%y)"
status=0
nrun=0

# compare.py REF NEW RTOL: thermo tables (header line starting with Step ... until "Loop time").
cat >"$work/compare.py" <<'EOF'
import sys

def tables(path):
    out, cur, cols = [], None, None
    for line in open(path, errors="replace"):
        words = line.split()
        if words and words[0] == "Step":
            cols, cur = words, []
            out.append((cols, cur))
        elif cur is not None:
            if line.startswith("Loop time") or not words:
                cur = None
                continue
            try:
                vals = [float(w) for w in words]
            except ValueError:
                continue  # a warning printed inside the table
            if len(vals) == len(cols):
                cur.append(vals)
    return out

ref, new, rtol = tables(sys.argv[1]), tables(sys.argv[2]), float(sys.argv[3])
if len(ref) != len(new):
    sys.exit(f"  {len(new)} thermo tables, reference has {len(ref)}")
worst = (0.0, None)
for t, ((rc, rr), (nc, nr)) in enumerate(zip(ref, new)):
    if rc != nc:
        sys.exit(f"  table {t}: columns {nc}, reference {rc}")
    if len(rr) != len(nr):
        sys.exit(f"  table {t}: {len(nr)} rows, reference {len(rr)}")
    for c, name in enumerate(rc):
        scale = max(abs(row[c]) for row in rr) or 1.0
        for rrow, nrow in zip(rr, nr):
            if name == "Step":
                if rrow[c] != nrow[c]:
                    sys.exit(f"  table {t}: step {nrow[c]:g}, reference {rrow[c]:g}")
                continue
            err = abs(nrow[c] - rrow[c]) / scale
            if err > worst[0]:
                worst = (err, f"table {t} step {rrow[0]:g} column {name}: {nrow[c]!r} vs reference "
                              f"{rrow[c]!r} (column scale {scale:g})")
if worst[0] > rtol:
    sys.exit(f"  max relative error {worst[0]:.3g} > {rtol:g} at {worst[1]}")
print(f"  max relative error {worst[0]:.3g} (tolerance {rtol:g})")
EOF

for deck in "$here"/examples/*/in.*; do
  dir="$(dirname "$deck")"
  task="$(basename "$dir")"
  name="$(basename "$deck")"; name="${name#in.}"
  if [[ -n "$only" && "$task/$name" != *"$only"* ]]; then continue; fi
  nrun=$((nrun + 1))
  rtol=1e-4
  grep -qE '^\s*pair_style.*precision\s+fp64' "$deck" && rtol=1e-6
  log="$work/log.$task.$name"
  echo "UMA: $task/$name (np $np)"
  start=$SECONDS
  if ! (cd "$dir" && "${launcher[@]}" "$LMP" -in "$(basename "$deck")" -var plugin "$plugin" \
          -log "$log" -screen none) >"$work/out.$task.$name" 2>&1; then
    echo "  FAILED to run ($((SECONDS - start)) s):"
    grep -h "ERROR" "$log" "$work/out.$task.$name" 2>/dev/null | head -n 5 | sed 's/^/    /'
    status=1
    continue
  fi
  echo "  ran in $((SECONDS - start)) s"
  # Reference logs name the plugin by its variable, not by this machine's path.
  sed -i "s|$plugin|\${plugin}|g" "$log"
  if [[ $regenerate -eq 1 ]]; then
    rm -f "$dir"/log.*."$name".cpu."$np"
    cp "$log" "$dir/log.$today.$name.cpu.$np"
    echo "  wrote examples/$task/log.$today.$name.cpu.$np"
    continue
  fi
  ref="$(ls -t "$dir"/log.*."$name".cpu."$refnp" 2>/dev/null | head -n1 || true)"
  if [[ -z "$ref" ]]; then
    echo "  no reference log examples/$task/log.<date>.$name.cpu.$refnp; run with --regenerate"
    status=1
    continue
  fi
  if python3 "$work/compare.py" "$ref" "$log" "$rtol" 2>&1; then
    echo "  OK against $(basename "$ref")"
  else
    echo "  MISMATCH against $(basename "$ref")"
    status=1
  fi
done
[[ $nrun -gt 0 ]] || { echo "run-examples.sh: no deck matched '$only'" >&2; exit 2; }
exit $status
