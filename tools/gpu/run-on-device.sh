#!/usr/bin/env bash
# One command on the GPU machine (the `run` tool; nothing is downloaded there): install the carried wheels,
# build this project with CUDA against the machine's own torch, run the GPU tests, the benchmarks against
# fairchem, and the CPU test suite. Needs the carried folders made by tools/gpu/prepare-carry.sh:
#   run(command="bash tools/gpu/run-on-device.sh core", carry=[".whl", ".carry"])
# Plans (phases in order; each phase logs to $OUT and a failed phase does not stop the later ones):
#   core    env deps build test-gpu bench-core             (about 8-9 min on a fresh H100 machine)
#   extras  env deps build bench-extras test-cpu           (build is a no-op when the machine is still warm)
#   all     env deps build test-gpu bench-core bench-extras test-cpu
#   final   env deps build, GPU tests, ours (fp32, TF32, deterministic) vs umas_fast_gpu (+TF32) at 200/2000
#           atoms, carbon and Cu, with profile
#   sweep   env deps build, GPU tests, ours fp32 vs umas_fast_gpu at 200/2000/20000 atoms
#           and the largest that runs (doubling)
#   prof    env deps build profile                         (op-level profiles of ours and fairchem, GEMM probe)
#   vstriton env deps triton build test-gpu profile        (our kernels vs fairchem's Triton kernels on identical
#           tensors, GPU tests, profiles)
#   fusion  env deps build test-gpu, then ours fp32 / fp32 deterministic vs umas_fast_gpu at 200 and 2000 atoms,
#           carbon and Cu, with the op-level profile (after a kernel change)
#   e2e2000 ours fp32 (graphs allowed / not) vs umas_fast_gpu at 2000 atoms (carbon, Cu) with the op-level profile
#   tf32    ours fp32 and TF32 vs umas_fast_gpu fp32 and TF32 at 200 and 2000 atoms (carbon, Cu), one run
#   layouts the SO(2) GEMMs in strict fp32 with their operand layouts (tools/gpu/gemm_probe.py --layouts)
#   triton  our fused Wigner kernels vs fairchem's Triton kernels on identical tensors (bench_wigner --from, built
#           with nvcc alone; benchmarks/kernels/vs_fairchem_triton.py) -> $OUT/kernels-vs-triton.md/.json
#   or any list of phase names.
# Files back in $OUT (at most 8): env.txt build.log ctest_gpu.log ctest_cpu.log bench.log results*.json/md/png.
set -u
T_START=$SECONDS
LIMIT=${UMA_DEVICE_LIMIT_S:-570}   # the call's 600 s minus a margin
OUT=${OUT:-/tmp/uma-out}
mkdir -p "$OUT"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
PY=python3
[ -x /opt/torch/.venv/bin/python ] && PY=/opt/torch/.venv/bin/python
export PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
export PATH=$PATH:/usr/local/cuda/bin
left() { echo $((LIMIT - (SECONDS - T_START))); }
say() { echo "[run-on-device +$((SECONDS - T_START))s] $*"; }

phases=("$@")
[ ${#phases[@]} -eq 0 ] && phases=(core)
expand=()
for p in "${phases[@]}"; do
  case $p in
    core) expand+=(env deps build test-gpu bench-core) ;;
    extras) expand+=(env deps build bench-extras test-cpu) ;;
    all) expand+=(env deps build test-gpu bench-core bench-extras test-cpu) ;;
    prof) expand+=(env deps build profile) ;;
    final) expand+=(env deps build final) ;;
    sweep) expand+=(env deps build sizes) ;;
    vstriton) expand+=(env deps triton build test-gpu profile) ;;
    fusion) expand+=(env deps build test-gpu fusion) ;;
    *) expand+=("$p") ;;
  esac
done

phase_env() {
  {
    date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv; nproc
    echo "python: $(command -v $PY)"; $PY -c 'import torch,sys;print("torch",torch.__version__,"cuda",torch.version.cuda,"py",sys.version.split()[0])'
    $PY -m pip list 2>/dev/null | grep -iE '^(numpy|scipy|matplotlib|e3nn|setuptools|huggingface|pyyaml|triton|ase|torch) '
    cmake --version | head -1; ninja --version; g++ --version | head -1; nvcc --version | tail -2
    for t in nsys ncu compute-sanitizer; do echo "$t: $(command -v $t || echo absent)"; done
    ls /usr/include/nlohmann /usr/include/gtest 2>&1 | head -2
    df -h /tmp | tail -1
  } > "$OUT/env.txt" 2>&1
  say "env: $(grep -m1 torch "$OUT/env.txt")"
}

SITE=/tmp/site
phase_deps() {
  mkdir -p /tmp/stub/wandb
  echo "# stub: fairchem.core.common.logger imports wandb at module level; inference never uses it" > /tmp/stub/wandb/__init__.py
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target $SITE .whl/*.whl \
    > /tmp/pip.log 2>&1 || { say "pip install failed"; tail -5 /tmp/pip.log; }
  export PYTHONPATH=$SITE:/tmp/stub
  local chk='import torch; from fairchem.core.units.mlip_unit import MLIPPredictUnit, InferenceSettings; from fairchem.core.datasets.atomic_data import AtomicData; import fairchem.core.models.uma.nn.execution_backends, fairchem.core.models.uma.triton; from importlib.metadata import version; print("fairchem-core", version("fairchem-core"), "OK")'
  if ! timeout 120 $PY -c "$chk" > /tmp/fcimport.log 2>&1; then
    say "fairchem 2.24 import failed:"; tail -15 /tmp/fcimport.log
    say "trying the fallback fairchem-core 2.21.0"
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site221 \
      .carry/fallback/*.whl > /dev/null 2>&1
    export PYTHONPATH=/tmp/site221:$SITE:/tmp/stub
    timeout 120 $PY -c "$chk" > /tmp/fcimport.log 2>&1 || { say "fallback import failed too"; tail -15 /tmp/fcimport.log; }
  fi
  say "deps: $(tail -1 /tmp/fcimport.log)"
  cat /tmp/fcimport.log >> "$OUT/env.txt"
  # the fairchem checkpoint of the bundled random model (carried as fp16, restored bit-exactly)
  if [ ! -f /tmp/uma-s-random-k2.pt ]; then
    ( timeout 200 $PY tools/gpu/pack_checkpoint.py unpack .carry/model/uma-s-random-k2.half.pt /tmp/uma-s-random-k2.pt \
        > /tmp/unpack.log 2>&1 ) &
    UNPACK_PID=$!
  fi
}

phase_build() {
  local td
  td=$($PY -c 'import torch;print(torch.utils.cmake_prefix_path)')/Torch
  if [ ! -f build-gpu/build.ninja ]; then
    timeout 200 cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DUMA_ENABLE_CUDA=ON \
      -DUMA_ENABLE_TESTS=ON -DUMA_ENABLE_BENCHMARKS=ON -DTorch_DIR="$td" -DUMA_PYTHON="$(command -v $PY)" \
      -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" \
      -Dnlohmann_json_DIR="$ROOT/.carry/deps/share/cmake/nlohmann_json" \
      -DGTest_DIR="$ROOT/.carry/deps/lib/x86_64-linux-gnu/cmake/GTest" > "$OUT/build.log" 2>&1 ||
      { say "cmake failed"; tail -30 "$OUT/build.log"; return 1; }
  fi
  local t=$SECONDS
  timeout $(( $(left) - 60 )) ninja -C build-gpu -j16 >> "$OUT/build.log" 2>&1
  local rc=$?
  say "build rc=$rc in $((SECONDS - t)) s"
  [ $rc -ne 0 ] && grep -E "error|Error" "$OUT/build.log" | head -30
  return $rc
}

phase_test_gpu() {
  ( cd build-gpu && timeout 200 ctest -R "test_gpu_engine|WignerKernelCuda|test_edge_gate" -V --timeout 180 ) \
    > "$OUT/ctest_gpu.log" 2>&1
  say "GPU tests: $(grep -E 'tests passed|tests failed' "$OUT/ctest_gpu.log")"
  grep -E "\[gpu( parity)?\]|FAILED|Failure|SKIPPED \]|  OK \] EdgeGate" "$OUT/ctest_gpu.log" | head -30
}

wait_unpack() {
  [ -n "${UNPACK_PID:-}" ] && wait "$UNPACK_PID"
  cat /tmp/unpack.log 2>/dev/null
}

bench() {  # $1 = name, rest = driver arguments
  local name=$1; shift
  wait_unpack
  local dl=$(( $(left) - 15 ))
  say "bench $name (deadline ${dl} s)"
  timeout $((dl + 10)) $PY benchmarks/gpu_vs_fairchem.py --bench build-gpu/benchmarks/uma-engine-bench \
    --uma potentials/uma-s-random-k2.uma --pt /tmp/uma-s-random-k2.pt --out /tmp/bench-$name --deadline "$dl" "$@" \
    >> "$OUT/bench.log" 2>&1
  say "bench $name rc=$?"
  for f in results.json results.md results.png; do
    [ -f /tmp/bench-$name/$f ] && cp /tmp/bench-$name/$f "$OUT/${f%.*}-$name.${f##*.}"
  done
  tail -40 /tmp/bench-$name/results.md 2>/dev/null
}

phase_bench_core() {
  bench core --profile --ours-variants fp32,fp32_tf32 --backends general,umas_fast_pytorch,umas_fast_gpu
}

phase_bench_extras() {
  UMA_DEVICE_LIMIT_S=$LIMIT bench extras --max-fit --ours-variants fp32_deterministic \
    --backends "" --extra umas_fast_gpu_tf32,umas_fast_gpu_compile --deadline $(( $(left) - 150 ))
}

phase_profile() {  # where the time goes at 2000-atom carbon: ours (kernel -> op attribution) vs fairchem; GEMM probe
  bench profile --structures carbon --sizes 2000 --ours-variants fp32 --profile --backends general,umas_fast_gpu \
    --fairchem-profile --deadline $(( $(left) - 60 ))
  timeout $(( $(left) - 5 )) $PY tools/gpu/gemm_probe.py > "$OUT/gemm_probe.txt" 2>&1
  cat "$OUT/gemm_probe.txt"
}

phase_triton() {  # issue 5: per-kernel comparison with fairchem's Triton kernels, same tensors, same GPU
  local t=$SECONDS
  mkdir -p /tmp/vsft
  nvcc -std=c++17 -O3 -arch=sm_90 -I src benchmarks/kernels/bench_wigner.cu src/kernels/wigner_launch_f32.cu \
    src/kernels/wigner_launch_f64.cu -o /tmp/vsft/bench_wigner > "$OUT/triton.log" 2>&1 ||
    { say "bench_wigner build failed"; tail -20 "$OUT/triton.log"; return 1; }
  timeout $(( $(left) - 240 )) $PY benchmarks/kernels/vs_fairchem_triton.py --bench /tmp/vsft/bench_wigner \
    --work /tmp/vsft --out "$OUT/kernels-vs-triton.md" >> "$OUT/triton.log" 2>&1
  say "triton comparison rc=$? in $((SECONDS - t)) s"
  tail -25 "$OUT/triton.log"
  rm -rf /tmp/vsft/g*   # the raw tensors (GBs at 20 000 atoms)
}

phase_fusion() {
  bench fusion --structures carbon,cu --sizes 200,2000 --ours-variants fp32,fp32_deterministic \
    --backends umas_fast_gpu --profile --deadline $(( $(left) - 20 ))
}

phase_e2e2000() {  # after an engine change: ours fp32 (CUDA graphs allowed, and without) vs umas_fast_gpu at 2000
  # atoms, carbon and Cu, with the profile
  bench e2e2000 --structures carbon,cu --sizes 2000 --ours-variants fp32,fp32_no_graphs --backends umas_fast_gpu \
    --profile --deadline $(( $(left) - 20 ))
}

phase_tf32() {  # the same precision setting on both sides, strict fp32 and TF32: ours vs umas_fast_gpu at 200 and 2000
  bench tf32 --structures carbon,cu --sizes 200,2000 --ours-variants fp32,fp32_tf32 --backends umas_fast_gpu \
    --extra umas_fast_gpu_tf32 --deadline $(( $(left) - 20 ))
}

phase_layouts() {  # the engine's SO(2) GEMMs in strict fp32 with the operand layouts they see (cuBLAS kernel choice)
  timeout $(( $(left) - 5 )) $PY tools/gpu/gemm_probe.py --layouts > "$OUT/gemm_layouts.txt" 2>&1
  cat "$OUT/gemm_layouts.txt"
}

phase_final() {  # the committed engine: GPU tests, then ours (fp32, TF32, deterministic) vs umas_fast_gpu
  phase_test_gpu
  bench final --structures carbon,cu --sizes 200,2000 --ours-variants fp32,fp32_tf32,fp32_deterministic \
    --backends umas_fast_gpu --extra umas_fast_gpu_tf32 --profile --deadline $(( $(left) - 20 ))
}

phase_sizes() {  # issue 5's size sweep: 200 / 2000 / 20 000 atoms and the largest that runs, ours vs fairchem
  phase_test_gpu
  bench sizes --structures carbon,cu --sizes 200,2000,20000 --ours-variants fp32 \
    --backends umas_fast_gpu --max-fit --profile --deadline $(( $(left) - 20 ))
}

phase_test_cpu() {
  local l=$(( $(left) - 10 ))
  [ $l -lt 30 ] && { say "no time left for the CPU suite"; return; }
  ( cd build-gpu && OMP_NUM_THREADS=4 timeout $l ctest -j8 -E "test_gpu_engine|WignerKernelCuda|fixtures_regenerate" \
      --output-on-failure --timeout $l ) > "$OUT/ctest_cpu.log" 2>&1
  say "CPU tests: $(grep -E 'tests passed|tests failed' "$OUT/ctest_cpu.log")"
  grep -E "Passed|Failed|\*\*\*" "$OUT/ctest_cpu.log" | head -20
}

for p in "${expand[@]}"; do
  fn="phase_${p//-/_}"
  if [ "$(left)" -lt 20 ]; then say "skipping $p: out of time"; continue; fi
  say "== $p"
  "$fn"
done
say "done"
