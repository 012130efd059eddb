#!/usr/bin/env bash
# uma/kk on the GPU machine (the `run` tool; no network there): unpack the carried CUDA Kokkos + LAMMPS
# source (tools/gpu/prepare-kk-carry.sh), build lmp (KOKKOS/CUDA + PLUGIN + MPI, nvcc_wrapper, -j$(nproc))
# and this project's umaplugin (CUDA + Kokkos, against the machine's torch) side by side (both in
# tools/gpu/kk-build-on-device.sh, shared with run-kk-matrix.sh), then run the example decks as uma/kk
# (fp64, fp32) and as plain uma (device cuda fp64/fp32, device cpu fp64), compare the thermo tables, and time
# a 2048-atom Cu fcc cell (run 100) for uma/kk vs plain uma device cuda.
#   run(command="bash tools/gpu/run-kk-on-device.sh", carry=[".carry-kk", ".carry/deps"])
# Order: decks omat omol, the benchmark, decks oc20 odac omc, one plain run without -k, comparison.
# Env: UMA_DEVICE_LIMIT_S (default 565), UMA_KK_DECKS1 (default "omat omol"), UMA_KK_DECKS2 ("oc20 odac omc").
# If .carry-kk/lmp-bin.tar.xz exists (lmp-bin.tar.xz of an earlier run), the LAMMPS build is skipped.
# Files back in $OUT: env.txt lammps-build.log plugin-build.log runs.log compare.txt bench.txt lmp-bin.tar.xz
set -u
T_START=$SECONDS
LIMIT=${UMA_DEVICE_LIMIT_S:-565}
OUT=${OUT:-/tmp/uma-kk-out}
mkdir -p "$OUT"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PY=python3
[ -x /opt/torch/.venv/bin/python ] && PY=/opt/torch/.venv/bin/python
export PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
export PATH=/usr/local/cuda/bin:$PATH
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OMP_PROC_BIND=spread OMP_PLACES=threads
left() { echo $((LIMIT - (SECONDS - T_START))); }
say() { echo "[kk-device +$((SECONDS - T_START))s] $*" | tee -a "$OUT/runs.log"; }

# ---- 1-2. unpack Kokkos + LAMMPS source, build lmp and umaplugin (shared with run-kk-matrix.sh) ----
# shellcheck source=tools/gpu/kk-build-on-device.sh
source "$ROOT/tools/gpu/kk-build-on-device.sh"

# ---- 3. decks: uma/kk (fp64, fp32) vs plain uma (device cuda fp64/fp32, device cpu fp64) ----
# All five with -k on g 1 -sf kk (same fixes/integrators); plain uma kept plain by suffix off around it.
RUNS=/tmp/kkruns; mkdir -p $RUNS
# Kokkos on a GPU defaults to 'newton off', which pair_style uma refuses (first device run, 2026-11-26:
# "pair_style uma requires newton pair on"); a full neighbor list is what it builds anyway.
KKARGS=(-k on g 1 -sf kk -pk kokkos newton on neigh full)
declare -A DECK=([omat]=examples/omat/in.cu_bulk [omol]=examples/omol/in.methanol_cation
  [oc20]=examples/oc20/in.cu100_co [odac]=examples/odac/in.framework_co2 [omc]=examples/omc/in.dry_ice)
variant_deck() {  # src variant -> writes the variant deck next to src, prints its name
  local src=$1 v=$2 dst prec dev plain=1
  case $v in kk64) prec=fp64; plain=0;; kk32) prec=fp32; plain=0;; cuda64) prec=fp64; dev=cuda;;
             cuda32) prec=fp32; dev=cuda;; cpu64) prec=fp64; dev=cpu;; esac
  dst=$(dirname "$src")/in.kkdev.$v
  $PY - "$src" "$dst" $prec $plain ${dev:-none} <<'PYEOF'
import sys
src, dst, prec, plain, dev = sys.argv[1:]
out = []
for line in open(src):
    w = line.split()
    # the pruned GPU LAMMPS has no min_style cg/kk, and Kokkos refuses a non-Kokkos min style:
    # the oc20 deck runs its MD part only here
    if w[:1] in (["minimize"], ["reset_timestep"]):
        continue
    if w[:1] == ["pair_style"]:
        line = line.replace("precision fp64", "precision " + prec).rstrip("\n")
        if plain == "1":
            line += " device " + dev
            out += ["suffix off\n", line + "\n", "suffix on\n"]
            continue
        line += "\n"
    out.append(line)
open(dst, "w").writelines(out)
PYEOF
  echo "$dst"
}
run_lmp() {  # tag dir deck [extra lmp args...]
  local tag=$1 dir=$2 deck=$3; shift 3
  local t=$SECONDS
  ( cd "$dir" && timeout ${TMO:-90} "$LMP" "$@" -in "$(basename "$deck")" -var plugin "$PLUGIN" -log $RUNS/$tag.log \
      -screen none > $RUNS/$tag.out 2>&1 )
  local rc=$?
  say "$tag rc=$rc $((SECONDS - t)) s$( [ $rc -ne 0 ] && echo ": $(grep -h -m2 -E 'ERROR|rror' $RUNS/$tag.log $RUNS/$tag.out | head -2 | tr '\n' ' ')")"
  return $rc
}
run_decks() {  # min_left decks...
  local need=$1; shift
  for d in "$@"; do
    for v in kk64 kk32 cuda64 cuda32 cpu64; do
      [ "$(left)" -lt $need ] && { say "skip $d $v: out of time"; continue; }
      f=$(variant_deck "${DECK[$d]}" $v)
      TMO=60 run_lmp $d.$v "$(dirname "$f")" "$f" "${KKARGS[@]}"
    done
  done
}
run_decks 200 ${UMA_KK_DECKS1:-omat omol}

compare() {
$PY - $RUNS > "$OUT/compare.txt" 2>&1 <<'PYEOF'
import sys, os, glob
runs = sys.argv[1]
def table(path):
    rows, cols, cur = [], None, False
    for line in open(path, errors="replace"):
        w = line.split()
        if w and w[0] == "Step": cols, cur = w, True; continue
        if cur:
            if not w or line.startswith("Loop time") or not w[0].lstrip("-").isdigit(): cur = False; continue
            try: rows.append(dict(zip(cols, map(float, w))))
            except ValueError: cur = False
    return rows
decks = sorted({os.path.basename(p).split(".")[0] for p in glob.glob(runs + "/*.log")})
pairs = [("kk64", "cuda64"), ("kk64", "cpu64"), ("cuda64", "cpu64"), ("kk32", "cuda32"), ("kk32", "kk64"), ("nok-cuda64", "cpu64")]
print("| deck | A | B | rows | max abs dPE (eV) | max rel dPE | max rel d(other cols) | last PE A | last PE B |")
print("|---|---|---|---|---|---|---|---|---|")
for d in decks:
    T = {}
    for p in glob.glob(f"{runs}/{d}.*.log"):
        v = os.path.basename(p)[len(d)+1:-4]
        T[v] = table(p)
    for a, b in pairs:
        if a not in T or b not in T or not T[a] or not T[b]:
            continue
        A, B = T[a], T[b]
        n = min(len(A), len(B))
        dpe = max(abs(A[i]["PotEng"] - B[i]["PotEng"]) for i in range(n))
        rpe = max(abs(A[i]["PotEng"] - B[i]["PotEng"]) / max(abs(B[i]["PotEng"]), 1e-30) for i in range(n))
        other = {}
        for c in A[0]:
            if c in ("Step", "PotEng") or c not in B[0]: continue
            scale = max(max(abs(B[i][c]) for i in range(n)), 1e-30)
            other[c] = max(abs(A[i][c] - B[i][c]) for i in range(n)) / scale
        os_ = " ".join(f"{c}:{x:.1e}" for c, x in other.items())
        print(f"| {d} | {a} | {b} | {n}/{len(A)}/{len(B)} | {dpe:.3e} | {rpe:.3e} | {os_} | {A[n-1]['PotEng']:.10g} | {B[n-1]['PotEng']:.10g} |")
PYEOF
cat "$OUT/compare.txt" | tee -a "$OUT/runs.log"
}

# ---- 4. benchmark: 2048-atom Cu fcc, run 100 (after run 10 warm-up), uma/kk vs plain uma device cuda ----
bench_deck() {  # variant kind -> examples/omat/in.kkdev.bench.$variant.$kind
  # variant: fp64, fp32 (its default GEMMs: split TF32), fp32_tf32 (tf32 yes), fp32_strict (tf32 no)
  local f=examples/omat/in.kkdev.bench.$1.$2 dev="" prec=${1%%_*} gemm=""
  [ "$2" = plain ] && dev="device cuda"
  case $1 in *_tf32) gemm="tf32 yes" ;; *_strict) gemm="tf32 no" ;; esac
  cat > $f <<DECKEOF
units           metal
atom_style      atomic
boundary        p p p
lattice         fcc 3.615
region          box block 0 8 0 8 0 8
create_box      1 box
create_atoms    1 box
mass            1 63.546
plugin load     \${plugin}
pair_style      uma task omat precision $prec $dev $gemm
pair_coeff      * * ../../potentials/uma-s-1p2p1-random-k2.uma Cu
velocity        all create 300.0 4928459 mom yes rot no dist gaussian
fix             1 all nve
timestep        0.001
thermo          50
run             10
run             100
DECKEOF
  echo $f
}
echo "| style | precision | atoms | steps | timesteps/s | ms/step | Loop time (s) | GPU mem max (MiB) | last PE |" > "$OUT/bench.txt"
echo "|---|---|---|---|---|---|---|---|---|" >> "$OUT/bench.txt"
for prec in fp32 fp32_tf32 fp32_strict fp64; do
  for kind in kk plain; do
    [ "$(left)" -lt 90 ] && { say "skip bench $kind $prec: out of time"; continue; }
    case $prec in *_*) [ $kind = plain ] && continue ;; esac  # the GEMM modes: uma/kk only
    f=$(bench_deck $prec $kind)
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > $RUNS/mem.$kind.$prec 2>/dev/null &
    MP=$!
    if [ $kind = kk ]; then TMO=$(( $(left) - 60 )) run_lmp bench.$kind.$prec examples/omat "$f" "${KKARGS[@]}"
    else TMO=$(( $(left) - 60 )) run_lmp bench.$kind.$prec examples/omat "$f"; fi
    kill $MP 2>/dev/null; wait $MP 2>/dev/null
    mem=$(sort -n $RUNS/mem.$kind.$prec | tail -1)
    perf=$(grep -E "^Performance" $RUNS/bench.$kind.$prec.log | tail -1)
    tps=$(echo "$perf" | sed -n 's/.* \([0-9.e+-]*\) timesteps\/s.*/\1/p')
    loop=$(grep -E "^Loop time" $RUNS/bench.$kind.$prec.log | tail -1 | awk '{print $4}')
    pe=$(awk '/^ *Step/{t=1;next} /^Loop/{t=0} t&&NF{last=$3} END{print last}' $RUNS/bench.$kind.$prec.log)
    ms=$($PY -c "print(f'{1000/float(\"$tps\"):.2f}')" 2>/dev/null)
    echo "| uma$( [ $kind = kk ] && echo /kk || echo ' device cuda') | $prec | 2048 | 100 | $tps | $ms | $loop | $mem | $pe |" >> "$OUT/bench.txt"
  done
done
cat "$OUT/bench.txt" | tee -a "$OUT/runs.log"
run_decks 25 ${UMA_KK_DECKS2:-oc20 odac omc}
# one plain run without -k (the pure plain path): omat, device cuda
f=$(variant_deck examples/omat/in.cu_bulk cuda64); sed -i '/^suffix/d' "$f"
[ "$(left)" -gt 20 ] && TMO=$(( $(left) - 10 )) run_lmp omat.nok-cuda64 examples/omat "$f"
compare
wait
# all LAMMPS logs (screen output of failures too) into runs.log
for f in $RUNS/*.log; do echo "===== $f"; cat "$f"; o=${f%.log}.out; [ -s "$o" ] && { echo "----- stdout/stderr"; tail -40 "$o"; }; done >> "$OUT/runs.log"
say "done"
