#!/usr/bin/env bash
# Issue 17 on ONE GPU (the multi-GPU kinds are not lent): the owner-direct halo exchange (halo_comm mpi, nccl) of
# pair_style uma against LAMMPS's own pair communication (halo_comm lammps), built and run on the GPU machine.
#   run(command="bash tools/gpu/run-exchange-on-device.sh", carry=[".carry-kk", ".carry/deps"])
# Builds lmp (KOKKOS/CUDA + PLUGIN + MPI) and umaplugin (CUDA + Kokkos + NCCL) as run-kk-on-device.sh does
# (tools/gpu/kk-build-on-device.sh), then, on a 4000-atom fcc Cu cell (random UMA-S-1.2.1-shaped weights):
#   1. one rank, 'halo exchange': halo_comm lammps / mpi / nccl in fp64 (NCCL: a one-rank communicator; the own
#      periodic images are the only ghosts, copied on the device) with UMA_HALO_VERIFY=1 (every mpi/nccl exchange
#      repeated through LAMMPS's path and compared bitwise), and uma/kk with nccl;
#   2. two ranks sharing the GPU: halo_comm mpi vs lammps in fp64 (rank invariance against 1 rank on a GPU), and
#      halo_comm nccl, which must stop with the ERROR for ranks sharing a GPU;
#   3. the per-exchange times (UMA_HALO_TRACE=1) of lammps vs nccl vs mpi in fp32, one rank, 20 steps: the
#      baseline of one GPU's step.
# Files back in $OUT: env.txt plugin-build.log lammps-build.log runs.log compare.txt trace.txt, the logs.
set -u
T_START=$SECONDS
LIMIT=${UMA_DEVICE_LIMIT_S:-565}
OUT=${OUT:-/tmp/uma-exchange-out}
mkdir -p "$OUT"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PY=python3
[ -x /opt/torch/.venv/bin/python ] && PY=/opt/torch/.venv/bin/python
export PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
export PATH=/usr/local/cuda/bin:$PATH
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
left() { echo $((LIMIT - (SECONDS - T_START))); }
say() { echo "[exchange-device +$((SECONDS - T_START))s] $*" | tee -a "$OUT/runs.log"; }
# shellcheck source=tools/gpu/kk-build-on-device.sh
source "$ROOT/tools/gpu/kk-build-on-device.sh"
grep -h "halo_comm nccl\|NCCL" "$OUT/plugin-build.log" | head -3 | tee -a "$OUT/runs.log"

RUNS=$OUT/runs; mkdir -p $RUNS
deck() {  # name precision style-args steps -> examples/omat/in.xchg.<name>
  local f=examples/omat/in.xchg.$1
  cat > $f <<DECKEOF
units           metal
atom_style      atomic
boundary        p p p
lattice         fcc 3.615
region          box block 0 10 0 10 0 10
create_box      1 box
create_atoms    1 box
mass            1 63.546
displace_atoms  all random 0.05 0.05 0.05 7
plugin load     \${plugin}
$( [ "${KKSTYLE:-0}" = 1 ] || echo "suffix off" )
pair_style      uma task omat precision $2 $3
pair_coeff      * * ../../potentials/uma-s-1p2p1-random-k2.uma Cu
velocity        all create 300.0 4928459 mom yes rot no dist gaussian
fix             1 all nve
timestep        0.001
thermo_style    custom step pe ke press pxx pyy pzz pxy
thermo_modify   format float %.15g
thermo          1
run             $4
DECKEOF
  echo $f
}
run() {  # tag np deck [lmp args...]; env passed through
  local tag=$1 np=$2 f=$3; shift 3
  [ "$(left)" -lt 25 ] && { say "skip $tag: out of time"; return 1; }
  local t=$SECONDS
  ( cd examples/omat && timeout $(( $(left) - 15 )) mpirun --oversubscribe -np $np "$LMP" "$@" -in "$(basename "$f")" \
      -var plugin "$PLUGIN" -log $RUNS/$tag.log -screen none > $RUNS/$tag.out 2> $RUNS/$tag.err )
  local rc=$?
  say "$tag rc=$rc $((SECONDS - t)) s: $(grep -h -m1 'halo exchange' $RUNS/$tag.log | cut -c1-150) $(grep -h -m1 ERROR $RUNS/$tag.log $RUNS/$tag.out $RUNS/$tag.err | head -1)"
  return $rc
}
KKARGS=(-k on g 1 -sf kk -pk kokkos newton on neigh full)
# Most telling first (a short device budget may stop the list): the NCCL path against LAMMPS's on one rank, the
# owner-direct plan on two ranks, the refusal of NCCL with a shared GPU, the per-exchange times, then the rest.
for c in lammps nccl; do
  UMA_HALO_VERIFY=$([ $c = lammps ] && echo 0 || echo 1) run np1.fp64.$c 1 "$(deck np1.fp64.$c fp64 "device cuda halo exchange halo_comm $c" 5)"
done
run np2.fp64.mpi 2 "$(deck np2.fp64.mpi fp64 "device cuda halo exchange halo_comm mpi" 5)"
run np2.fp64.nccl 2 "$(deck np2.fp64.nccl fp64 "device cuda halo exchange halo_comm nccl" 2)"
for c in lammps nccl; do
  UMA_HALO_TRACE=1 run np1.fp32.$c 1 "$(deck np1.fp32.$c fp32 "device cuda halo exchange halo_comm $c" 20)"
done
UMA_HALO_VERIFY=1 run np1.fp64.mpi 1 "$(deck np1.fp64.mpi fp64 "device cuda halo exchange halo_comm mpi" 5)"
run np2.fp64.lammps 2 "$(deck np2.fp64.lammps fp64 "device cuda halo exchange halo_comm lammps" 5)"
KKSTYLE=1 UMA_HALO_VERIFY=1 run kk.np1.fp64.nccl 1 "$(KKSTYLE=1 deck kk.np1.fp64.nccl fp64 "halo exchange halo_comm nccl" 5)" "${KKARGS[@]}"
UMA_HALO_TRACE=1 run np1.fp32.mpi 1 "$(deck np1.fp32.mpi fp32 "device cuda halo exchange halo_comm mpi" 20)"
run np1.fp64.fold 1 "$(deck np1.fp64.fold fp64 "device cuda" 5)"

$PY - $RUNS > "$OUT/compare.txt" 2>&1 <<'PYEOF'
import sys, glob, os, re, statistics
runs = sys.argv[1]
def table(path):
    rows, cols, cur = [], None, False
    for line in open(path, errors="replace"):
        w = line.split()
        if w and w[0] == "Step": cols, cur = w, True; continue
        if cur:
            if not w or not w[0].isdigit(): cur = False; continue
            rows.append(dict(zip(cols, map(float, w))))
    return rows
T = {os.path.basename(p)[:-4]: table(p) for p in glob.glob(runs + "/*.log")}
print("| run A | run B | steps | max rel dPE | max rel d(press, pxx..pxy) |")
print("|---|---|---|---|---|")
pairs = [("np1.fp64.mpi", "np1.fp64.lammps"), ("np1.fp64.nccl", "np1.fp64.lammps"), ("kk.np1.fp64.nccl", "np1.fp64.lammps"),
         ("np1.fp64.lammps", "np1.fp64.fold"), ("np2.fp64.mpi", "np1.fp64.lammps"), ("np2.fp64.lammps", "np1.fp64.lammps"),
         ("np2.fp64.mpi", "np2.fp64.lammps"), ("np1.fp32.nccl", "np1.fp32.lammps"), ("np1.fp32.mpi", "np1.fp32.lammps")]
for a, b in pairs:
    A, B = T.get(a), T.get(b)
    if not A or not B: print(f"| {a} | {b} | missing | | |"); continue
    n = min(len(A), len(B))
    rpe = max(abs(A[i]["PotEng"] - B[i]["PotEng"]) / abs(B[i]["PotEng"]) for i in range(n))
    rp = max(abs(A[i][c] - B[i][c]) / max(max(abs(B[j][c]) for j in range(n)), 1e-30)
             for i in range(n) for c in ("Press", "Pxx", "Pyy", "Pzz", "Pxy"))
    print(f"| {a} | {b} | {n} | {rpe:.2e} | {rp:.2e} |")
print()
print("| run | steps/s (LAMMPS Performance) | exchanges traced | median ms per exchange, forward | reverse |")
print("|---|---|---|---|---|")
for tag in ("np1.fp32.lammps", "np1.fp32.nccl", "np1.fp32.mpi"):
    perf = [l for l in open(f"{runs}/{tag}.log", errors="replace") if l.startswith("Performance")] if os.path.exists(f"{runs}/{tag}.log") else []
    tps = re.findall(r"([0-9.]+) timesteps/s", perf[-1])[0] if perf else "-"
    fw, rv = [], []
    if os.path.exists(f"{runs}/{tag}.err"):
        for l in open(f"{runs}/{tag}.err", errors="replace"):
            if not l.startswith("[uma halo"): continue
            ms = [float(x) for x in re.findall(r"([0-9.]+) ms", l)]
            (rv if "reverse" in l else fw).append(sum(ms))
    med = lambda v: f"{statistics.median(v):.3f}" if v else "-"
    print(f"| {tag} | {tps} | {len(fw)}+{len(rv)} | {med(fw)} | {med(rv)} |")
PYEOF
cat "$OUT/compare.txt" | tee -a "$OUT/runs.log"
grep -h "^\[uma halo" $RUNS/np1.fp32.*.err | head -40 > "$OUT/trace.txt"
tar -C $RUNS -czf "$OUT/logs.tar.gz" . 2>/dev/null
say "done"
