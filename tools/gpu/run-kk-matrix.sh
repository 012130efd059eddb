#!/usr/bin/env bash
# uma/kk measurements for issue 6 in ONE call of <= 600 s on a 2-GPU machine (the `run` tool, no network):
#   run(kind="nvidia-h100-x2", command="bash tools/gpu/run-kk-matrix.sh 2>&1 | tee $OUT/console.log",
#       carry=[".carry-kk", ".carry/deps", ".carry/model", ".whl"])
# (.carry-kk: tools/gpu/prepare-kk-carry.sh; .carry/deps, .carry/model, .whl: tools/gpu/prepare-carry.sh.)
#
# Phases (arguments; default `all` = build nve parity2 matrix largest scaling report, in this order):
#   build    tools/gpu/kk-build-on-device.sh (lmp + umaplugin; idempotent on a warm machine) and, alongside,
#            fairchem from .whl/ (pip --no-deps --no-index --target /tmp/site, as run-on-device.sh's deps
#            phase) + the fp16-packed checkpoint restored to /tmp/uma-s-random-k2.pt.
#   nve      started early, in the background, on GPU 1: uma/kk fp32 NVE, 192-atom fcc Cu (4x4x3 cells),
#            600 K, 1 fs, 10 000 steps, thermo every 100. It stops cleanly (fix halt on a stop file that
#            this script creates when GPU 1 is needed alone or the report is due; `timer timeout` as a
#            backstop), so a short run still reports its steps.
#   parity2  fp64 uma/kk, 4000-atom liquid-like Cu (20 steps NVE, thermo every step: pe etotal press
#            pxx..pyz) and the examples/omol deck, 1 rank (-k on g 1) vs 2 ranks (mpirun -np 2, -k on g 2).
#            The 2-rank runs use 'halo $UMA_KKM_HALO2' (default exchange: ghosts within one cutoff whose node
#            features are exchanged per layer; with shell every rank holds the 30 A receptive field as ghost
#            nodes, ~61 000 per rank for 4000 atoms); they are time-capped and the rows they reached are compared.
#   matrix   GPU 0: MD steps/s (LAMMPS loop time of a timed run after a warm-up run) at 192, 2000, 20 000
#            atoms for uma/kk fp32 and plain `pair_style uma ... device cuda` fp32 (no -k), GPU memory by
#            nvidia-smi every 0.2 s (peak - idle), and fairchem umas_fast_gpu evals/s on the same
#            structures (benchmarks/gpu_vs_fairchem.py make_cu, liquid-like Cu) and weights
#            (gpu_vs_fairchem.py --skip-ours: its own worker).
#   largest  uma/kk fp32 `run 2` at 40 000, 80 000, 160 000, ... atoms while it succeeds and the next
#            attempt (estimated from the last one) fits before the scaling reserve.
#   scaling  ~32 000 atoms, uma/kk fp32, 1 GPU vs 2 GPUs (2 ranks, halo $UMA_KKM_HALO2): run 1 (warm-up) + run 3 (timed);
#            the 2-GPU run first has the NVE run stopped (or waits for it to finish).
#   xscaling (not in `all`) the same 1 vs 2 GPUs with plain `pair_style uma ... device cuda halo exchange`.
#   report   benchmarks/kk_matrix_report.py -> $OUT/results.md, results.json, results.png; logs.tar.xz.
# Files back in $OUT: console.log (from tee) results.md results.json results.png logs.tar.xz, and
# lmp-bin.tar.xz only when lmp was built in this call (copy it to .carry-kk/ to skip that build next time).
#
# Time box: UMA_DEVICE_LIMIT_S (default 570) s from the start. Every run has a `timeout` that keeps the
# reserves of the later phases and of the report; every deck flushes its thermo rows, and the timing decks
# print the CPU (wall) column, so a run cut by its timeout still yields rows and per-step times.
# Expected on 2 H100 (estimates from the 1-GPU runs of 2026-11-26, before edge chunking): build ~90 s (cold
# plugin), parity2 <= 140 s (the 2-rank runs capped), matrix ~150 s, scaling ~125 s; `largest` gets what is
# left before the scaling reserve, probably nothing in a cold call: then run it on the still-warm machine with
#   bash tools/gpu/run-kk-matrix.sh largest report    (the build is then a ninja no-op when nothing changed)
# Env knobs (defaults in brackets), mostly for local dry runs:
#   UMA_KKM_WORK [/tmp/kkm]; UMA_KKM_LMP + UMA_KKM_PLUGIN: use these, no build; UMA_KKM_PY [python];
#   UMA_KKM_KK1 / UMA_KKM_KK2: the Kokkos switches for 1 and 2 ranks; UMA_KKM_PLAIN_DEVICE [cuda];
#   UMA_KKM_NO_GPU=1: no nvidia-smi (two "GPUs" assumed); UMA_KKM_MATRIX ["192:5:100 2000:5:20 20000:1:3"]
#   (atoms:warm-up steps:timed steps); UMA_KKM_FC_SIZES [192,2000,20000]; UMA_KKM_FC_BACKEND [umas_fast_gpu];
#   UMA_KKM_FC_DEVICE [cuda]; UMA_KKM_FC_REPS [by size] W,R; UMA_KKM_NVE ["4 4 3 10000 100"] (fcc cells
#   x y z, steps, thermo every); UMA_KKM_PARITY ["4000 20 1"] (atoms, steps, thermo every);
#   UMA_KKM_PARITY_BUDGET_S [140]; UMA_KKM_SCALING_N [32000]; UMA_KKM_LARGEST_START [40000];
#   UMA_KKM_SCALE1_S [45], UMA_KKM_SCALE2_S [80] (caps of the two scaling runs, reserved by `largest`);
#   UMA_KKM_REPORT_RESERVE_S [20]; UMA_KKM_PT [/tmp/uma-s-random-k2.pt]; UMA_KKM_SITE [/tmp/site];
#   UMA_KKM_STUB [/tmp/stub].
set -u
T_START=$SECONDS
LIMIT=${UMA_DEVICE_LIMIT_S:-570}
OUT=${OUT:-/tmp/uma-kkm-out}
mkdir -p "$OUT"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PY=${UMA_KKM_PY:-python3}
[ -z "${UMA_KKM_PY:-}" ] && [ -x /opt/torch/.venv/bin/python ] && PY=/opt/torch/.venv/bin/python
export PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
export PATH=/usr/local/cuda/bin:$PATH LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OMP_PROC_BIND=spread OMP_PLACES=threads
export CUDA_DEVICE_ORDER=PCI_BUS_ID   # CUDA device numbers = nvidia-smi's (-i of the memory sampler)
W=${UMA_KKM_WORK:-/tmp/kkm}
rm -rf "$W"
mkdir -p "$W/logs" "$W/decks" "$W/data" "$W/build" "$W/mem"
REC=$W/runs.tsv      # one line per LAMMPS run, read by the report
NOTES=$W/notes.txt   # free-text notes for the report
printf 'tag\tphase\tatoms\tranks\tgpus\trc\twall_s\tmem_idle_mib\tmem_peak_mib\ttimeout_s\tlog\n' > "$REC"
: > "$NOTES"
left() { echo $((LIMIT - (SECONDS - T_START))); }
say() { echo "[kk-matrix +$((SECONDS - T_START))s] $*" | tee -a "$W/driver.log"; }
note() { echo "$*" >> "$NOTES"; say "note: $*"; }
min() { echo $(( $1 < $2 ? $1 : $2 )); }
REPORT_RESERVE=${UMA_KKM_REPORT_RESERVE_S:-20}
SCALE1=${UMA_KKM_SCALE1_S:-45}
SCALE2=${UMA_KKM_SCALE2_S:-80}
MODEL=$ROOT/potentials/uma-s-random-k2.uma
PT=${UMA_KKM_PT:-/tmp/uma-s-random-k2.pt}   # fairchem checkpoint, restored from .carry/model
SITE=${UMA_KKM_SITE:-/tmp/site}              # fairchem + its carried dependencies (pip --target)
STUB=${UMA_KKM_STUB:-/tmp/stub}
FCW=$W/fc            # gpu_vs_fairchem.py --out: structures/cu_N.json live here (the same files for LAMMPS)
NVE_STOP=$W/nve.stop
# Kokkos on a GPU defaults to 'newton off', which pair_style uma refuses (see run-kk-on-device.sh).
KK1=${UMA_KKM_KK1:--k on g 1 -sf kk -pk kokkos newton on neigh full}
# Ubuntu's OpenMPI is not GPU-aware: say so rather than rely on LAMMPS' detection.
KK2=${UMA_KKM_KK2:--k on g 2 -sf kk -pk kokkos newton on neigh full gpu/aware off}
PLAIN_DEVICE=${UMA_KKM_PLAIN_DEVICE:-cuda}
# halo mode of the 2-rank runs (parity2, scaling): exchange (ghosts within one cutoff, node features exchanged
# per layer) or shell (the 30 Å receptive field as ghost nodes); 1-rank runs fold periodic images (auto).
HALO2=${UMA_KKM_HALO2:-exchange}
read -r -a KK1A <<< "$KK1"
read -r -a KK2A <<< "$KK2"

phases=("$@")
[ ${#phases[@]} -eq 0 ] && phases=(all)
P=()
for p in "${phases[@]}"; do
  case $p in
    all) P+=(build nve parity2 matrix largest scaling report) ;;
    build|nve|parity2|matrix|graphs|largest|scaling|xscaling|halotrace|report) P+=("$p") ;;
    *) echo "unknown phase $p (build nve parity2 matrix graphs largest scaling xscaling halotrace report all)" >&2
       exit 2 ;;
  esac
done
want() { local x; for x in "${P[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }
# every measuring phase needs lmp + plugin: build is implied (a fast no-op on a warm machine)
for p in nve parity2 matrix graphs largest scaling xscaling halotrace; do want $p && ! want build && P=(build "${P[@]}") && break; done
say "phases: ${P[*]}; limit ${LIMIT} s; work $W"

if [ "${UMA_KKM_NO_GPU:-0}" = 1 ]; then NGPU=2; else NGPU=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU'); fi
GPU_NVE=1
G2=0,1
if [ "$NGPU" -lt 2 ]; then
  GPU_NVE=0; G2=0
  KK2A=("${KK2A[@]/#2/1}")   # -k on g 2 -> g 1: both ranks on the one GPU
  note "only $NGPU GPU(s): the NVE run shares GPU 0, the 2-rank runs share one GPU"
fi

mem_now() {  # GPU -> MiB used now (0 without nvidia-smi)
  [ "${UMA_KKM_NO_GPU:-0}" = 1 ] && { echo 0; return; }
  nvidia-smi --query-gpu=memory.used -i "$1" --format=csv,noheader,nounits 2>/dev/null | head -1 | tr -dc 0-9
}

# mpirun transport (UMA_KKM_MPI; phase halotrace replaces it by the fastest of its variants)
read -r -a MPI_ARGS <<< "${UMA_KKM_MPI:---mca pml ob1 --mca btl self,vader --mca btl_vader_single_copy_mechanism none}"

# run_lmp TAG PHASE ATOMS RANKS GPUS TIMEOUT DECK [lmp switches...]
# GPUS: CUDA_VISIBLE_DEVICES (its first GPU is sampled for memory). Appends a line to runs.tsv.
# mpirun: shared memory only (pml ob1, btl self,vader: no UCX, whose CUDA hooks a non-GPU-aware job does not
# need), no CMA single copy (containers often forbid ptrace), no binding (ranks drive GPUs, not cores).
run_lmp() {
  local tag=$1 phase=$2 atoms=$3 np=$4 gpus=$5 tmo=$6 deck=$7; shift 7
  local log=$W/logs/$tag.log out=$W/logs/$tag.out g0=${gpus%%,*} idle=0 peak=0 mp="" rc t wall loop
  if [ "$tmo" -lt 15 ]; then
    note "$tag not run: out of time (${tmo} s left for it)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tag" "$phase" "$atoms" "$np" "$gpus" skipped 0 0 0 "$tmo" "$log" >> "$REC"
    return 99
  fi
  if [ "${UMA_KKM_NO_GPU:-0}" != 1 ]; then
    idle=$(mem_now "$g0")
    nvidia-smi --query-gpu=memory.used -i "$g0" --format=csv,noheader,nounits -lms 200 > "$W/mem/$tag" 2>/dev/null &
    mp=$!
  fi
  t=$SECONDS
  if [ "$np" -eq 1 ]; then
    ( cd "$W/decks" && CUDA_VISIBLE_DEVICES=$gpus timeout -k 10 "$tmo" "$LMP" "$@" -in "$deck" -var plugin "$PLUGIN" \
        -var model "$MODEL" -var stopfile "$NVE_STOP" -log "$log" -screen none > "$out" 2>&1 )
  else
    ( cd "$W/decks" && CUDA_VISIBLE_DEVICES=$gpus timeout -k 10 "$tmo" mpirun -np "$np" --oversubscribe --bind-to none \
        "${MPI_ARGS[@]}" \
        -x CUDA_VISIBLE_DEVICES -x LD_LIBRARY_PATH -x PATH ${UMA_HALO_TRACE:+-x UMA_HALO_TRACE} \
        -x OMP_NUM_THREADS "$LMP" "$@" -in "$deck" -var plugin "$PLUGIN" -var model "$MODEL" \
        -var stopfile "$NVE_STOP" -log "$log" -screen none > "$out" 2>&1 )
  fi
  rc=$?
  wall=$((SECONDS - t))
  if [ -n "$mp" ]; then
    kill "$mp" 2>/dev/null; wait "$mp" 2>/dev/null
    peak=$(sort -n "$W/mem/$tag" 2>/dev/null | tail -1 | tr -dc 0-9)
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tag" "$phase" "$atoms" "$np" "$gpus" "$rc" "$wall" \
    "${idle:-0}" "${peak:-0}" "$tmo" "$log" >> "$REC"
  loop=$(grep -h '^Loop time' "$log" 2>/dev/null | tail -1 | cut -c1-80)
  say "$tag rc=$rc ${wall} s (timeout ${tmo} s) mem ${idle}->${peak} MiB; ${loop:-no loop line}$( [ "$rc" -ne 0 ] &&
      echo "; $(grep -h -m2 -E '^ERROR|out of memory|what\(\)' "$log" "$out" 2>/dev/null | head -2 | tr '\n' ' ' | cut -c1-300)")"
  return $rc
}

# ------------------------------------------------------------------------------------------ decks
# md_deck FILE PRECISION DEVICE(kk|cuda|cpu) DATA TEMP THERMO_EVERY "RUN LENGTHS" "THERMO COLUMNS" FORMAT
md_deck() {
  local f=$1 prec=$2 dev=$3 data=$4 temp=$5 every=$6 runs=$7 cols=$8 fmt=$9 devkw="" r
  [ "$dev" != kk ] && devkw=" device $dev"
  {
    echo "# generated by tools/gpu/run-kk-matrix.sh"
    echo "units           metal"
    echo "atom_style      atomic"
    echo "boundary        p p p"
    echo "read_data       $data"
    echo "mass            1 63.546"
    echo "plugin load     \${plugin}"
    echo "variable        halo index auto"
    echo "variable        graphs index auto"
    echo "pair_style      uma task omat precision $prec$devkw halo \${halo} graphs \${graphs}"
    echo "pair_coeff      * * \${model} Cu"
    echo "velocity        all create $temp 4928459 mom yes rot no dist gaussian"
    echo "fix             1 all nve"
    echo "timestep        0.001"
    echo "thermo_style    custom $cols"
    echo "thermo_modify   format float $fmt flush yes"
    echo "thermo          $every"
    for r in $runs; do echo "run             $r"; done
  } > "$W/decks/$f"
  echo "$f"
}
TCOLS="step cpu pe etotal temp press"   # cpu: wall seconds into the run (per-step times of a cut run)

data_for() {  # N -> path of the LAMMPS data file of liquid-like Cu with ~N atoms (made on demand)
  local n=$1 f=$W/data/cu_$1.data
  if [ ! -f "$f" ]; then
    $PY - "$FCW" "$W/data" "$n" >> "$W/build/data.log" 2>&1 <<'PYEOF'
import json, os, sys
sys.path.insert(0, "benchmarks")
import gpu_vs_fairchem as g   # the benchmark's own liquid-like Cu (make_cu, cu_repeats, seed 0)

fcw, ddir = sys.argv[1], sys.argv[2]
for n in map(int, sys.argv[3:]):
    p = g.structure_path(fcw, "cu", n)        # the JSON that the fairchem worker reads for this size
    j = json.load(open(p))
    cell = j["cell"]
    assert all(abs(cell[i][k]) < 1e-9 for i in range(3) for k in range(3) if i != k), "orthogonal cell expected"
    L = [cell[i][i] for i in range(3)]
    with open(os.path.join(ddir, f"cu_{n}.data"), "w") as f:
        f.write(f"liquid-like Cu, benchmarks/gpu_vs_fairchem.py make_cu({n}): {len(j['numbers'])} atoms\n\n")
        f.write(f"{len(j['numbers'])} atoms\n1 atom types\n\n")
        for k, ax in enumerate("xyz"):
            f.write(f"0.0 {L[k]:.12f} {ax}lo {ax}hi\n")
        f.write("\nAtoms # atomic\n\n")
        for i, (x, y, z) in enumerate(j["positions"]):
            f.write(f"{i + 1} 1 {x:.12f} {y:.12f} {z:.12f}\n")
    print(f"cu_{n}: {len(j['numbers'])} atoms, box {L}")
PYEOF
  fi
  [ -f "$f" ] && echo "$f"
}
natoms() { awk 'NR<6 && $2=="atoms"{print $1; exit}' "$1"; }

NVE_PID=""
nve_alive() { [ -n "$NVE_PID" ] && kill -0 "$NVE_PID" 2>/dev/null; }
nve_release_by() {  # RESERVE: let the NVE run go on while more than RESERVE s are left, then stop it cleanly
  nve_alive || return 0
  say "waiting for the NVE run (stopped when $1 s are left)"
  while nve_alive && [ "$(left)" -gt "$1" ]; do sleep 2; done
  if nve_alive; then
    touch "$NVE_STOP"
    say "NVE run asked to stop (fix halt on $NVE_STOP)"
    wait "$NVE_PID"
  fi
  NVE_PID=""
}

# ------------------------------------------------------------------------------------------ phases
phase_build() {
  # fairchem + checkpoint in the background while lmp/umaplugin build (run-on-device.sh's deps phase)
  ( mkdir -p "$STUB/wandb"
    echo "# stub: fairchem.core.common.logger imports wandb at module level; inference never uses it" > "$STUB/wandb/__init__.py"
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl \
      > "$W/build/pip.log" 2>&1 || echo "pip install failed" >> "$W/build/pip.log"
    export PYTHONPATH=$SITE:$STUB
    chk='import torch; from fairchem.core.units.mlip_unit import MLIPPredictUnit, InferenceSettings; from fairchem.core.datasets.atomic_data import AtomicData; import fairchem.core.models.uma.nn.execution_backends, fairchem.core.models.uma.triton; from importlib.metadata import version; print("fairchem-core", version("fairchem-core"), "OK")'
    timeout 150 $PY -c "$chk" > "$W/build/fcimport.log" 2>&1
    if [ -f "$PT" ]; then
      echo "checkpoint $PT already restored (warm machine)" > "$W/build/unpack.log"
    elif timeout 200 $PY tools/gpu/pack_checkpoint.py unpack .carry/model/uma-s-random-k2.half.pt "$PT.tmp" \
        > "$W/build/unpack.log" 2>&1; then
      mv "$PT.tmp" "$PT"
    fi
  ) &
  local deps_pid=$!
  if [ -n "${UMA_KKM_LMP:-}" ]; then
    LMP=$UMA_KKM_LMP; PLUGIN=${UMA_KKM_PLUGIN:?UMA_KKM_PLUGIN goes with UMA_KKM_LMP}; KK_BUILD_OK=1
    say "using lmp $LMP and plugin $PLUGIN (no build)"
  else
    KK_BUILD_OUT=$W/build KK_NOTE_LOG=$W/build/notes.log KK_BUILD_NO_EXIT=1
    # shellcheck source=tools/gpu/kk-build-on-device.sh
    source "$ROOT/tools/gpu/kk-build-on-device.sh"
  fi
  wait $deps_pid
  export PYTHONPATH=$SITE:$STUB${PYTHONPATH:+:$PYTHONPATH}
  say "deps: $(tail -1 "$W/build/fcimport.log" 2>/dev/null); checkpoint: $(ls "$PT" 2>/dev/null || echo missing); $(tail -1 "$W/build/unpack.log" 2>/dev/null)"
  [ "$KK_BUILD_OK" = 1 ] || { note "build failed: no LAMMPS runs (see logs.tar.xz build/)"; return 1; }
}

phase_nve() {
  local nx ny nz nsteps nevery natom tlimit
  read -r nx ny nz nsteps nevery <<< "${UMA_KKM_NVE:-4 4 3 10000 100}"
  natom=$((4 * nx * ny * nz))
  # backstop only: the stop file ends it earlier when GPU 1 or the report needs it
  tlimit=$(( $(left) - REPORT_RESERVE - 15 ))
  if [ $tlimit -lt 30 ]; then note "nve not run: out of time"; return; fi
  rm -f "$NVE_STOP"
  cat > "$W/decks/in.nve" <<EOF
# generated by tools/gpu/run-kk-matrix.sh: uma/kk fp32 NVE, fcc Cu ${nx}x${ny}x${nz} cells ($natom atoms), 600 K, 1 fs
units           metal
atom_style      atomic
boundary        p p p
lattice         fcc 3.615
region          box block 0 $nx 0 $ny 0 $nz
create_box      1 box
create_atoms    1 box
mass            1 63.546
plugin load     \${plugin}
pair_style      uma task omat precision fp32
pair_coeff      * * \${model} Cu
velocity        all create 600.0 4928459 mom yes rot no dist gaussian
fix             1 all nve
variable        nvestop equal is_file(\${stopfile})
fix             stop all halt $nevery v_nvestop > 0.5 error soft message yes
timestep        0.001
thermo_style    custom step time cpu etotal pe ke temp
thermo_modify   format float %.12g flush yes
thermo          $nevery
timer           timeout $tlimit every 10
run             $nsteps
EOF
  echo "nve: ${natom} atoms, ${nsteps} steps planned, thermo every ${nevery}, timer timeout ${tlimit} s (backstop)" >> "$NOTES"
  run_lmp nve nve "$natom" 1 "$GPU_NVE" $((tlimit + 60)) in.nve "${KK1A[@]}" &
  NVE_PID=$!
  say "nve started on GPU $GPU_NVE (pid $NVE_PID)"
}

phase_parity2() {
  local n steps every data cols cap t0=$SECONDS budget=${UMA_KKM_PARITY_BUDGET_S:-140}
  read -r n steps every <<< "${UMA_KKM_PARITY:-4000 20 1}"
  data=$(data_for "$n") || { note "parity2: no data file for $n atoms"; return; }
  n=$(natoms "$data")
  cols="step pe etotal press pxx pyy pzz pxy pxz pyz"
  md_deck in.parity.cu fp64 kk "$data" 600.0 "$every" "$steps" "$cols" %.15g > /dev/null
  # the examples/omol deck (a charged molecule, boundary f f f, NVT) as it is, more digits: on 2 ranks the
  # molecule is split between them with few ghosts (a small periodic cell would be all ghost shell)
  sed -e '/^thermo_style/s/$/ press/' -e 's/^thermo_modify .*/thermo_modify   format float %.15g flush yes/' \
    -e 's/^pair_style .*/variable        halo index auto\n& halo ${halo}/' \
    examples/omol/in.methanol_cation > "$W/decks/in.parity.omol"
  cp examples/omol/data.methanol_cation "$W/decks/"
  ptmo() {  # cap -> timeout within the phase budget and the call's time box
    local b=$(( budget - (SECONDS - t0) )) l=$(( $(left) - REPORT_RESERVE - 30 ))
    min "$(min "$1" "$b")" "$l"
  }
  # cheap 1-rank runs first, then the 2-rank runs (ghost shell), whose rows so far count if they are cut
  run_lmp parity.cu.np1 parity2 "$n" 1 0 "$(ptmo 60)" in.parity.cu "${KK1A[@]}"
  run_lmp parity.omol.np1 parity2 6 1 0 "$(ptmo 30)" in.parity.omol "${KK1A[@]}"
  cap=$(( budget - (SECONDS - t0) - 40 ))
  run_lmp parity.cu.np2 parity2 "$n" 2 $G2 "$(ptmo "$(min 60 $cap)")" in.parity.cu "${KK2A[@]}" -var halo "$HALO2"
  run_lmp parity.omol.np2 parity2 6 2 $G2 "$(ptmo 40)" in.parity.omol "${KK2A[@]}" -var halo "$HALO2"
}

phase_matrix() {
  local spec n warm timed fcs fl t big=()
  local specs=${UMA_KKM_MATRIX:-192:5:100 2000:5:20 20000:1:3}
  fcs=${UMA_KKM_FC_SIZES:-192,2000,20000}
  for spec in $specs; do data_for "${spec%%:*}" > /dev/null; done
  for n in ${fcs//,/ }; do data_for "$n" > /dev/null; done
  run_size() {  # atoms warm timed: uma/kk, then plain uma device cuda
    local n=$1 warm=$2 timed=$3 every data natom f cap
    data=$(data_for "$n") || { note "matrix: no data file for $n atoms"; return; }
    natom=$(natoms "$data")
    every=$(( timed < 20 ? 1 : timed / 4 ))
    cap=$(( natom > 10000 ? 100 : 60 ))
    f=$(md_deck "in.matrix.kk.$n" fp32 kk "$data" 300.0 "$every" "$warm $timed" "$TCOLS" %.12g)
    run_lmp "matrix.kk.$n" matrix "$natom" 1 0 "$(min $cap $(( $(left) - REPORT_RESERVE )))" "$f" "${KK1A[@]}"
    f=$(md_deck "in.matrix.plain.$n" fp32 "$PLAIN_DEVICE" "$data" 300.0 "$every" "$warm $timed" "$TCOLS" %.12g)
    run_lmp "matrix.plain.$n" matrix "$natom" 1 0 "$(min $cap $(( $(left) - REPORT_RESERVE )))" "$f"
  }
  for spec in $specs; do
    IFS=: read -r n warm timed <<< "$spec"
    if [ "$n" -le 5000 ]; then run_size "$n" "$warm" "$timed"; else big+=("$spec"); fi
  done
  # fairchem umas_fast_gpu on the same structures (FCW/structures/cu_N.json) and weights, GPU 0
  fl=$(min 120 $(( $(left) - REPORT_RESERVE - 20 )))
  if [ ! -f "$PT" ]; then
    note "fairchem not run: checkpoint $PT missing ($(tail -1 "$W/build/unpack.log" 2>/dev/null))"
  elif [ "$fl" -lt 40 ]; then
    note "fairchem not run: out of time"
  else
    say "fairchem ${UMA_KKM_FC_BACKEND:-umas_fast_gpu} at $fcs atoms (deadline ${fl} s)"
    t=$SECONDS
    CUDA_VISIBLE_DEVICES=0 timeout -k 10 $((fl + 15)) $PY benchmarks/gpu_vs_fairchem.py --skip-ours \
      --backends "${UMA_KKM_FC_BACKEND:-umas_fast_gpu}" --structures cu --sizes "$fcs" --pt "$PT" --out "$FCW" \
      --device "${UMA_KKM_FC_DEVICE:-cuda}" --deadline "$fl" ${UMA_KKM_FC_REPS:+--reps "$UMA_KKM_FC_REPS"} \
      > "$W/logs/fairchem.out" 2>&1
    say "fairchem rc=$? in $((SECONDS - t)) s: $(grep -h '^\[fairchem' "$W/logs/fairchem.out" | tr '\n' ' ' | cut -c1-600)"
  fi
  for spec in "${big[@]}"; do
    IFS=: read -r n warm timed <<< "$spec"
    run_size "$n" "$warm" "$timed"
  done
}

# CUDA graphs (pair_style keyword graphs): uma/kk and plain uma device cuda, fp32, with 'graphs no' and with
# the default 'graphs auto', at UMA_KKM_GRAPHS sizes ["192:20:300 2000:3:20"], then fairchem umas_fast_gpu on
# the same structures; the table of steps/s goes to $W/graphs.md (and the report's logs).
phase_graphs() {
  local spec n warm timed data natom every f v g style tag sps dev switches
  local specs=${UMA_KKM_GRAPHS:-192:20:300 2000:3:20}
  for spec in $specs; do
    IFS=: read -r n warm timed <<< "$spec"
    data=$(data_for "$n") || { note "graphs: no data file for $n atoms"; continue; }
    natom=$(natoms "$data")
    every=$(( timed < 20 ? 1 : timed / 4 ))
    for style in kk plain; do
      dev=kk; switches=("${KK1A[@]}")                           # uma/kk: the Kokkos switches
      [ $style = plain ] && { dev=$PLAIN_DEVICE; switches=(); }  # plain uma: 'device ...', no -k
      f=$(md_deck "in.graphs.$style.$n" fp32 "$dev" "$data" 300.0 "$every" "$warm $timed" "$TCOLS" %.12g)
      for g in no auto; do
        run_lmp "graphs.$style.$g.$n" graphs "$natom" 1 0 "$(min 90 $(( $(left) - REPORT_RESERVE )))" "$f" \
          "${switches[@]}" -var graphs $g
      done
    done
  done
  {
    echo "| style | graphs | atoms | timed steps | loop s | steps/s | graph log line |"
    echo "|---|---|---:|---:|---:|---:|---|"
    for spec in $specs; do
      n=${spec%%:*}
      for style in kk plain; do for g in no auto; do
        tag=graphs.$style.$g.$n
        v=$(grep -h '^Loop time' "$W/logs/$tag.log" 2>/dev/null | tail -1)
        sps=$(awk '{if ($4 > 0) printf "%.2f", $9 / $4}' <<< "$v")
        echo "| $style | $g | $(awk '{print $12}' <<< "$v") | $(awk '{print $9}' <<< "$v") | $(awk '{print $4}' <<< "$v") | ${sps:-—} | $(grep -h -m1 'CUDA graph' "$W/logs/$tag.log" 2>/dev/null | cut -c1-90) |"
      done; done
    done
  } > "$W/graphs.md"
  cat "$W/graphs.md"
  cp "$W/graphs.md" "$OUT/" 2>/dev/null
  local fcs="" fl
  for spec in $specs; do fcs+="${fcs:+,}${spec%%:*}"; done
  fl=$(min 150 $(( $(left) - REPORT_RESERVE - 20 )))
  if [ -f "$PT" ] && [ "$fl" -ge 40 ]; then
    say "graphs: fairchem umas_fast_gpu at $fcs atoms (deadline ${fl} s)"
    CUDA_VISIBLE_DEVICES=0 timeout -k 10 $((fl + 15)) $PY benchmarks/gpu_vs_fairchem.py --skip-ours \
      --backends umas_fast_gpu --structures cu --sizes "$fcs" --pt "$PT" --out "$FCW" --device cuda \
      --deadline "$fl" > "$W/logs/fairchem.out" 2>&1
    say "fairchem: $(grep -h '^\[fairchem' "$W/logs/fairchem.out" | tr '\n' ' ' | cut -c1-600)"
  else
    note "graphs: fairchem not run (checkpoint or time)"
  fi
}

phase_largest() {
  local n=${UMA_KKM_LARGEST_START:-40000} prev data natom f reserve est rc
  reserve=$REPORT_RESERVE
  want scaling && reserve=$((REPORT_RESERVE + SCALE1 + SCALE2))
  # the next attempt is estimated from the last success (the largest matrix uma/kk run first): x2.2 + 10 s
  prev=$(awk -F'\t' '$1 ~ /^matrix\.kk\./ && $6 == 0 {w=$7} END{print w+0}' "$REC")
  [ "$prev" -gt 0 ] || prev=30
  while :; do
    est=$(( prev * 22 / 10 + 10 ))
    if [ $(( $(left) - reserve )) -lt "$est" ]; then
      note "largest: $n atoms not tried: ~${est} s estimated, $(( $(left) - reserve )) s left before the reserve"
      break
    fi
    data=$(data_for "$n") || { note "largest: no data file for $n atoms"; break; }
    natom=$(natoms "$data")
    f=$(md_deck "in.largest.$n" fp32 kk "$data" 300.0 1 "2" "$TCOLS" %.12g)
    run_lmp "largest.$n" largest "$natom" 1 0 $(( $(left) - reserve )) "$f" "${KK1A[@]}"
    rc=$?
    rm -f "$data" "$FCW/structures/cu_$n.json"
    [ $rc -ne 0 ] && break
    prev=$(awk -F'\t' -v t="largest.$n" '$1 == t {print $7}' "$REC")
    n=$((n * 2))
  done
}

phase_scaling() {
  local n=${UMA_KKM_SCALING_N:-32000} data natom f
  data=$(data_for "$n") || { note "scaling: no data file for $n atoms"; return; }
  natom=$(natoms "$data")
  f=$(md_deck in.scaling fp32 kk "$data" 300.0 1 "1 3" "$TCOLS" %.12g)
  if ! run_lmp scaling.np1 scaling "$natom" 1 0 "$(min "$SCALE1" $(( $(left) - REPORT_RESERVE - SCALE2 )))" "$f" "${KK1A[@]}" &&
     ! grep -q '^Step' "$W/logs/scaling.np1.log" 2>/dev/null; then
    note "scaling: 2-GPU run skipped (no 1-GPU rows to compare with)"; return
  fi
  if [ "$NGPU" -lt 2 ]; then note "scaling: 2-GPU run skipped (one GPU)"; return; fi
  nve_release_by $((REPORT_RESERVE + SCALE2))     # GPU 1 to itself for the timing
  note "scaling: the 2-rank run uses 'halo $HALO2' and mpirun ${MPI_ARGS[*]}"
  run_lmp scaling.np2 scaling "$natom" 2 $G2 "$(min "$SCALE2" $(( $(left) - REPORT_RESERVE )))" "$f" "${KK2A[@]}" \
    -var halo "$HALO2"
}

phase_xscaling() {  # plain uma on the GPU with 'halo exchange' (ghosts within one cutoff), 1 vs 2 GPUs
  local n=${UMA_KKM_SCALING_N:-32000} data natom f
  data=$(data_for "$n") || { note "xscaling: no data file for $n atoms"; return; }
  natom=$(natoms "$data")
  f=$(md_deck in.xscaling fp32 cuda "$data" 300.0 1 "1 3" "$TCOLS" %.12g)
  run_lmp xscaling.np1 xscaling "$natom" 1 0 "$(min "$SCALE1" $(( $(left) - REPORT_RESERVE - SCALE2 )))" "$f" || true
  if [ "$NGPU" -lt 2 ]; then note "xscaling: 2-GPU run skipped (one GPU)"; return; fi
  nve_release_by $((REPORT_RESERVE + SCALE2))
  run_lmp xscaling.np2 xscaling "$natom" 2 $G2 "$(min "$SCALE2" $(( $(left) - REPORT_RESERVE )))" "$f" -var halo exchange
}

phase_halotrace() {  # 2-GPU 'halo exchange': time per exchange (UMA_HALO_TRACE) for several mpirun transports;
  # the fastest becomes MPI_ARGS of the later phases. (2026-11-26: vader without single copy took ~3 s per
  # 55 MB exchange on this machine.)
  local n=${UMA_KKM_TRACE_N:-4000} data natom f v best="" best_ms=999999 ms
  data=$(data_for "$n") || { note "halotrace: no data file for $n atoms"; return; }
  natom=$(natoms "$data")
  f=$(md_deck in.halotrace.plain fp32 "$PLAIN_DEVICE" "$data" 300.0 1 "1" "$TCOLS" %.12g)
  local -A variants=(
    [vader-nocopy]="--mca pml ob1 --mca btl self,vader --mca btl_vader_single_copy_mechanism none"
    [vader]="--mca pml ob1 --mca btl self,vader"
    [tcp]="--mca pml ob1 --mca btl self,tcp")
  for v in ${UMA_KKM_TRACE_VARIANTS:-vader-nocopy vader tcp}; do
    read -r -a MPI_ARGS <<< "${variants[$v]}"
    UMA_HALO_TRACE=1 run_lmp "halotrace.plain.$v" halotrace "$natom" 2 $G2 "$(min 45 $(( $(left) - REPORT_RESERVE )))" \
      "$f" -var halo exchange
    ms=$(awk '/^\[uma halo\]/{for(i=1;i<=NF;i++) if($i=="communication"){s+=$(i+1); c++}} END{if(c) printf "%d", s/c; else print ""}' \
      "$W/logs/halotrace.plain.$v.out")
    note "halotrace $v (${variants[$v]}): mean communication ${ms:-?} ms per exchange"
    if [ -n "$ms" ] && [ "$ms" -lt "$best_ms" ]; then best=$v; best_ms=$ms; fi
  done
  [ -n "$best" ] && read -r -a MPI_ARGS <<< "${variants[$best]}"
  note "halotrace: later 2-rank runs use $best (${MPI_ARGS[*]})"
  f=$(md_deck in.halotrace.kk fp32 kk "$data" 300.0 1 "3" "$TCOLS" %.12g)
  UMA_HALO_TRACE=1 run_lmp halotrace.kk.np2 halotrace "$natom" 2 $G2 "$(min 60 $(( $(left) - REPORT_RESERVE )))" "$f" \
    "${KK2A[@]}" -var halo exchange
  grep -h '^\[uma halo\]' "$W"/logs/halotrace.kk.np2.out | tail -16
}

phase_report() {
  nve_release_by "$REPORT_RESERVE"
  echo "phase_seconds $PHASE_TIMES" >> "$NOTES"
  local l=$(( $(left) + 25 ))
  timeout $(( l < 10 ? 10 : l )) $PY benchmarks/kk_matrix_report.py --work "$W" --out "$OUT" 2>&1 | tee "$W/report.log"
  [ -n "${KK_LMPBIN_PID:-}" ] && wait "$KK_LMPBIN_PID"
  tar -C "$W" -cJf "$OUT/logs.tar.xz" --exclude=./data --exclude=./mem --exclude=./fc/structures . 2>/dev/null
  say "files in \$OUT: $(ls "$OUT" | tr '\n' ' ')"
}

PHASE_TIMES=""
for p in "${P[@]}"; do
  if [ "$p" != report ] && [ "$(left)" -lt "$REPORT_RESERVE" ]; then note "phase $p skipped: out of time"; continue; fi
  say "== $p ($(left) s left)"
  t0=$SECONDS
  "phase_$p"
  rc=$?
  PHASE_TIMES="$PHASE_TIMES $p=$((SECONDS - t0))"
  if [ "$p" = build ] && [ $rc -ne 0 ]; then
    say "build failed: straight to the report"
    want report && phase_report
    exit 1
  fi
done
nve_release_by 0
say "done"
