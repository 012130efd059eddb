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
#   gemm    env deps build test-gpu, then ours in the three fp32 GEMM modes (strict, split TF32, TF32) vs umas_fast_gpu
#           strict fp32 at 200 and 2000 atoms (carbon, Cu), with each mode's profile at 2000 atoms
#   tf32-tiles-start, tf32-tiles  the Hopper TF32 GEMMs (TMA configurations, RS) vs cuBLAS on one layer's GEMMs
#   rs-sweep  env tf32-tiles-start tf32-tiles for the RS GEMM's ring depths and pre-rounded B only (carry .carry)
#   test-gpu-kernels  the Hopper GEMM and fused-edge-block kernel tests only (after build)
#   tf32-ab  ours TF32 on each TF32 GEMM path (UMA_TF32_GEMM=hopper-rna (the default), cublas, hopper, rs),
#           profiled
#   node-kernels  ours split and TF32 with UMA_FUSED_NODE_KERNELS=0 (no fairchem), profiled
#   tiles   env, then the split-TF32 GEMM's tile sweep and cuBLAS on the engine's GEMM shapes (gemm-tiles.md)
#   layouts the SO(2) GEMMs in strict fp32 with their operand layouts (tools/gpu/gemm_probe.py --layouts)
#   recompute  one short call: engine + test_gpu_engine + bench built alone; the recompute test, the TF32 kernel
#           checks, ours TF32 keeping everything vs each recompute tier (carry .carry: deps + structures)
#   k2-tma-start, k2-tma  K2's forward on the TMA host (bench_gate_conv2_tma.cu, nvcc alone) against the gate kernel
#           and the GEMMs: same bits?, times (k2-tma.md; carry .carry for the CUTLASS headers)
#   k1-probe  K1's A producer alone against gather_rotate (bench_k1_producer.cu, nvcc alone): k1-probe.md
#   rg-probe  radial_gather alone: kernel test, time against gather_rotate, Nsight Compute sections (rg-probe.md)
#   half-probe  fp16 operands holding TF32 values vs the product TF32 TMA GEMM, one layer's GEMMs, timed and checked
#           (bench_half_operands.cu, nvcc alone; carry .carry for the CUTLASS headers): half-probe.md
#   peaks   the roofline's ceilings on this GPU (benchmarks/gpu_peaks.py) -> peaks.json
#   tiles-small  after tf32-tiles-start: its TMA configurations at 14 344 and 98 200 rows (tiles-small.md)
#   quick   one short call after an engine change: engine + test_gpu_engine + bench built alone, the K2, radial
#           gather and half-operand kernel tests, the whole test_gpu_engine, ours TF32 on carbon 2000 and Cu 192: the
#           default path, UMA_HALF_OPERANDS=1 and UMA_FUSED_RADIAL_GATHER=1 with the profile, =0, recompute yes
#           (carry .carry: deps + structures)
#   triton  our fused Wigner kernels vs fairchem's Triton kernels on identical tensors (bench_wigner --from, built
#           with nvcc alone; benchmarks/kernels/vs_fairchem_triton.py) -> $OUT/kernels-vs-triton.md/.json
#   or any list of phase names.
# fairchem's UMA Nitro vs ours (parts made by tools/gpu/prepare-nitro-carry.sh, which prints the calls with their
# measured sizes; make each call right after the previous one returns: /root/nitro-stage lives while it is warm):
#   stage-nitro-a (-b, ...)  copy the carried part .carry-nitro/<x> to /root/nitro-stage/ (seconds)
#   build-bench   configure build-gpu as phase build does (needs .carry/deps) if it is not, then build only
#                 uma-engine-bench (a no-op when it is up to date)
#   nitro         env + reassemble the parts (/root/nitro-stage + the carried one; sha256-checked), unpack to
#                 /tmp/nitro, make the fairchem twin of potentials/uma-s-1p2p1-random-k2.uma (from the seed, or
#                 the packed one in the archive; tools/gpu/nitro_checkpoint.py checks that its .uma conversion has
#                 the bundled sha256), build-bench if time allows, then benchmarks/nitro_vs_ours.py --reference
#                 -> $OUT/nitro_vs_ours.md/.json, nitro.log. Without the parts, ours is still measured.
#     run(command="bash tools/gpu/run-on-device.sh stage-nitro-a build-bench", carry=[".carry-nitro/a", ".carry/deps"])
#     run(command="bash tools/gpu/run-on-device.sh nitro", carry=[".carry-nitro/b"])
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
PY=${UMA_DEVICE_PY:-$PY}   # tests of this script elsewhere only
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
    gemm) expand+=(env deps build test-gpu gemm-modes) ;;
    tiles) expand+=(env gemm-tiles) ;;
    sweep) expand+=(env deps build sizes) ;;
    vstriton) expand+=(env deps triton build test-gpu profile) ;;
    fusion) expand+=(env deps build test-gpu fusion) ;;
    nitro) expand+=(env nitro) ;;
    # the RS TF32 GEMM's ring depths and pre-rounded B against cuBLAS, no TMA configurations (about 2 min)
    rs-sweep) export UMA_TF32_CONFIGS=${UMA_TF32_CONFIGS:-none} UMA_RS_STAGES=${UMA_RS_STAGES:-3 4 5 4b 5b}
              expand+=(env tf32-tiles-start tf32-tiles) ;;
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
  # and the 1.1-shaped test model itself (untracked; the benchmarks' --uma), converted from that checkpoint: its
  # seed does not rebuild the same weights under the machine's torch (2.11; the pins say 2.13)
  if [ ! -f /tmp/uma-s-random-k2.pt ] || [ ! -f potentials/uma-s-random-k2.uma ]; then
    ( [ -f /tmp/uma-s-random-k2.pt ] || timeout 200 $PY tools/gpu/pack_checkpoint.py unpack \
        .carry/model/uma-s-random-k2.half.pt /tmp/uma-s-random-k2.pt > /tmp/unpack.log 2>&1
      [ -f potentials/uma-s-random-k2.uma ] || timeout 200 $PY tools/python/uma_convert.py convert --dtype float16 \
        --name uma-s-random-seed42-k2 -o potentials/uma-s-random-k2.uma /tmp/uma-s-random-k2.pt >> /tmp/unpack.log 2>&1 ) &
    UNPACK_PID=$!
  fi
}

configure_gpu() {  # build-gpu with CUDA, tests and benchmarks, against the machine's torch (once per machine)
  # The CUTLASS headers sit under the carried .carry/deps, which each call replaces: unpack them every time
  # (a no-op when present), also when build-gpu is already configured.
  [ -d .carry/deps ] || { [ -f build-gpu/build.ninja ] && return 0; say "build-gpu is not configured and .carry/deps was not carried"; return 1; }
  bash tools/gpu/unpack-cutlass.sh || return 1
  [ -f build-gpu/build.ninja ] && return 0
  local td
  td=$($PY -c 'import torch;print(torch.utils.cmake_prefix_path)')/Torch
  timeout 200 cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DUMA_ENABLE_CUDA=ON \
    -DUMA_ENABLE_TESTS=ON -DUMA_ENABLE_BENCHMARKS=ON -DTorch_DIR="$td" -DUMA_PYTHON="$(command -v $PY)" \
    -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" \
    -Dnlohmann_json_DIR="$ROOT/.carry/deps/share/cmake/nlohmann_json" \
    -DGTest_DIR="$ROOT/.carry/deps/lib/x86_64-linux-gnu/cmake/GTest" > "$OUT/build.log" 2>&1 ||
    { say "cmake failed"; tail -30 "$OUT/build.log"; return 1; }
}

phase_build() {
  configure_gpu || return 1
  local t=$SECONDS
  timeout $(( $(left) - 60 )) ninja -C build-gpu -j16 >> "$OUT/build.log" 2>&1
  local rc=$?
  say "build rc=$rc in $((SECONDS - t)) s"
  [ $rc -ne 0 ] && grep -E "error|Error" "$OUT/build.log" | head -30
  return $rc
}

phase_test_gpu() {
  wait_unpack > /dev/null  # the 1.1 test model, if it is being built
  ( cd build-gpu && timeout 200 ctest -R "test_gpu_engine|WignerKernelCuda|SplitTf32|Tf32TmaGemm|Tf32RsWgmma|GateConv2Cuda|test_edge_gate|test_edge_geometry|test_layer_norm_silu|test_rms_norm_sh|test_node_gate|test_radial_inputs" -V --timeout 180 ) \
    > "$OUT/ctest_gpu.log" 2>&1
  say "GPU tests: $(grep -E 'tests passed|tests failed' "$OUT/ctest_gpu.log")"
  # The engine again with the node-level kernels off (layers.h LayerTables::fused_node; on by default): the Torch-op
  # path they replace stays tested on the GPU.
  ( cd build-gpu && echo "== UMA_FUSED_NODE_KERNELS=0" && UMA_FUSED_NODE_KERNELS=0 timeout 120 ctest -R "test_gpu_engine" -V --timeout 110 ) \
    >> "$OUT/ctest_gpu.log" 2>&1
  # And with the truncating Hopper TF32 GEMM in the tf32 mode (opt-in, nn/fp32_gemm.cpp): it must run and meet the
  # TF32 bound.
  ( cd build-gpu && echo "== UMA_TF32_GEMM=hopper" && UMA_TF32_GEMM=hopper timeout 120 ctest -R "test_gpu_engine" -V --timeout 110 ) \
    >> "$OUT/ctest_gpu.log" 2>&1
  # And with the TF32 GEMM that rounds in registers (UMA_TF32_GEMM=rs).
  ( cd build-gpu && echo "== UMA_TF32_GEMM=rs" && UMA_TF32_GEMM=rs timeout 120 ctest -R "test_gpu_engine" -V --timeout 110 ) \
    >> "$OUT/ctest_gpu.log" 2>&1
  # And with cuBLAS's TF32 (UMA_TF32_GEMM=cublas; the default is the TMA GEMM that rounds A in registers, hopper-rna).
  ( cd build-gpu && echo "== UMA_TF32_GEMM=cublas" && UMA_TF32_GEMM=cublas timeout 120 ctest -R "test_gpu_engine" -V --timeout 110 ) \
    >> "$OUT/ctest_gpu.log" 2>&1
  say "GPU engine tests with the node kernels off, then with the TF32 GEMMs hopper, rs and cublas: $(grep -E 'tests passed|tests failed' "$OUT/ctest_gpu.log" | tail -4 | tr "\n" " ")"
  grep -E "\[gpu( parity| gemm modes)?\]|\[split-tf32|\[tf32-(rs|tma)|\[gate-conv2|FAILED|Failure|SKIPPED \]|  OK \] (EdgeGate|EdgeGeometry|LayerNormSilu|RmsNormSh|NodeGate)" "$OUT/ctest_gpu.log" | head -60
}

phase_test_gpu_kernels() {  # the GEMM and fused-edge-block kernel tests alone (no engine), after build
  ( cd build-gpu && timeout 120 ctest -R "Tf32RsWgmma|GateConv2Cuda|Tf32TmaGemm" -V --timeout 100 ) > "$OUT/ctest_gpu.log" 2>&1
  say "GPU kernel tests: $(grep -E 'tests passed|tests failed' "$OUT/ctest_gpu.log")"
  grep -E "\[tf32-(rs|tma)|\[gate-conv2|FAILED|Failure" "$OUT/ctest_gpu.log" | head -30
}

wait_unpack() {
  [ -n "${UNPACK_PID:-}" ] && wait "$UNPACK_PID"
  UNPACK_PID=
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
  nvcc -std=c++17 -O3 -arch=sm_90 -I src benchmarks/kernels/bench_wigner.cu src/kernels/wigner/wigner_launch_f32.cu \
    src/kernels/wigner/wigner_launch_f64.cu -o /tmp/vsft/bench_wigner > "$OUT/triton.log" 2>&1 ||
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

phase_gemm_modes() {  # issue 14: the fp32 GEMM modes (strict, split TF32, TF32) vs umas_fast_gpu strict fp32, with
  # the profile of each mode at 2000 atoms
  bench gemm-modes --structures carbon,cu --sizes 200,2000 --ours-variants fp32,fp32_split_tf32,fp32_tf32 \
    --backends umas_fast_gpu --profile --profile-small 200 --deadline $(( $(left) - 20 ))
}

phase_node_kernels() {  # issue 14 step 4 d: ours in split and TF32 with the node-level kernels off (UMA_FUSED_NODE_KERNELS=0),
  # profiled, to set against gemm-modes (same call, kernels on: the default)
  UMA_FUSED_NODE_KERNELS=0 bench node-kernels-off --structures carbon,cu --sizes 200,2000 \
    --ours-variants fp32_split_tf32,fp32_tf32 --skip-fairchem --profile --profile-small 200 --deadline $(( $(left) - 20 ))
}
phase_tf32_tiles_start() {  # start compiling the Hopper TF32 GEMM's configurations (bench_split_tf32_gemm.cu
  # -DUMA_TF32_TMA=0..5) and cuBLAS's bench in the background, while build and test-gpu run; tf32-tiles waits for them
  bash tools/gpu/unpack-cutlass.sh || return 1
  mkdir -p /tmp/tf32tiles
  local src=benchmarks/kernels/bench_split_tf32_gemm.cu
  ( { echo ${UMA_TF32_CONFIGS:-0 1 2 3 4 5} | tr ' ' '\n' | grep -v none | xargs -r -P 6 -I{} nvcc -std=c++17 -O3 -DNDEBUG \
        --expt-relaxed-constexpr -gencode=arch=compute_90a,code=sm_90a -I src -isystem .carry/deps/cutlass/include \
        -DUMA_TF32_TMA={} $src -o /tmp/tf32tiles/tma{} &
      # UMA_RS_STAGES: ring depths of the RS kernel; a trailing b (e.g. 5b) takes B pre-rounded
      for st in ${UMA_RS_STAGES:-3}; do
        nvcc -std=c++17 -O3 -DNDEBUG --expt-relaxed-constexpr -gencode=arch=compute_90a,code=sm_90a -I src \
          -isystem .carry/deps/cutlass/include -DUMA_TF32_RS -DUMA_RS_STAGES=${st%b} \
          -DUMA_RS_B_ROUNDED=$([ "$st" != "${st%b}" ] && echo 1 || echo 0) $src -o /tmp/tf32tiles/rs$st &
      done
      nvcc -std=c++17 -O3 -arch=sm_90 -I src -DUMA_CUBLAS $src -lcublas -o /tmp/tf32tiles/cublas; wait
    } > /tmp/tf32tiles/build.log 2>&1; touch /tmp/tf32tiles/done ) &
  say "tf32-tiles: compiling in the background"
}
phase_tf32_tiles() {  # the Hopper TF32 GEMM's configurations vs cuBLAS strict / TF32 on one layer's 18 GEMMs
  # (carbon 2000's 98 200 edges) -> $OUT/tf32-tiles.md
  while [ ! -f /tmp/tf32tiles/done ] && [ "$(left)" -gt 60 ]; do sleep 5; done
  say "tf32-tiles: $(ls /tmp/tf32tiles | grep -c -v -e log -e done) binaries"
  { echo "| kernel | GEMM | m x n x k | ms | TFLOP/s |"; echo "|---|---|---|---:|---:|"
    for b in /tmp/tf32tiles/cublas /tmp/tf32tiles/rs* /tmp/tf32tiles/tma?; do [ -x "$b" ] && timeout 60 "$b"; done
  } > "$OUT/tf32-tiles.md" 2>&1
  grep -i -E "error|warning" /tmp/tf32tiles/build.log | head -20 >> "$OUT/tf32-tiles.md"
  grep "one layer" "$OUT/tf32-tiles.md"
}
phase_k2_tma_start() {  # compile benchmarks/kernels/bench_gate_conv2_tma.cu (K2's forward on the TMA host) in the
  # background while other phases run; k2-tma waits for it
  bash tools/gpu/unpack-cutlass.sh || return 1
  mkdir -p /tmp/k2tma
  ( nvcc -std=c++17 -O3 -DNDEBUG --expt-relaxed-constexpr -gencode=arch=compute_90a,code=sm_90a -Xptxas -v -I src \
      -isystem .carry/deps/cutlass/include benchmarks/kernels/bench_gate_conv2_tma.cu -o /tmp/k2tma/bench \
      > /tmp/k2tma/build.log 2>&1; touch /tmp/k2tma/done ) &
  say "k2-tma: compiling in the background"
}
phase_k2_tma() {  # K2's forward (gate inside conv 2's TMA GEMMs) against gate + GEMMs, bitwise and timed, at carbon
  # 2000's and Cu 192's edge counts -> $OUT/k2-tma.md (exit 2 of the bench: outputs differ)
  while [ ! -f /tmp/k2tma/done ] && [ "$(left)" -gt 30 ]; do sleep 5; done
  { for e in 98200 14344; do UMA_BENCH_EDGES=$e timeout 60 /tmp/k2tma/bench; echo "exit $?"; done
    grep -E "error|C7510|registers|spill" /tmp/k2tma/build.log | head -20; } > "$OUT/k2-tma.md" 2>&1
  cat "$OUT/k2-tma.md"
}
phase_k1_probe() {  # K1's A producer alone (benchmarks/kernels/bench_k1_producer.cu, nvcc alone, ~10 s): does it
  # keep up with conv 1's GEMMs? Bitwise check against gather_rotate, times at carbon 2000's and Cu 192's edge
  # counts -> $OUT/k1-probe.md (exit 2 of the bench: a producer's A differs from the message)
  mkdir -p /tmp/k1probe
  nvcc -std=c++17 -O3 -arch=sm_90 -Xptxas -v -I src benchmarks/kernels/bench_k1_producer.cu -o /tmp/k1probe/bench \
    > /tmp/k1probe/build.log 2>&1 || { say "k1-probe: build failed"; tail -20 /tmp/k1probe/build.log; return 1; }
  { for e in 98200 14344; do UMA_BENCH_EDGES=$e timeout 90 /tmp/k1probe/bench; echo "exit $?"; done
    grep -E "registers|spill" /tmp/k1probe/build.log | sort | uniq -c; } > "$OUT/k1-probe.md" 2>&1
  cat "$OUT/k1-probe.md"
}
phase_rg_probe() {  # radial_gather alone (nvcc alone, ~30 s): its kernel test (gtest from .carry/deps), its time
  # against gather_rotate's (bench_k1_producer.cu, UMA_K1_PROBE_TABLES=0) and Nsight Compute's sections for both
  # kernels at carbon 2000's edge count -> $OUT/rg-probe.md
  mkdir -p /tmp/rgprobe
  local inc="-I src -I unittest/kernels -I .carry/deps/include" lib="-L.carry/deps/lib/x86_64-linux-gnu -lgtest_main -lgtest -lpthread"
  { nvcc -std=c++17 -O3 -arch=sm_90 $inc unittest/kernels/test_radial_gather_cuda.cu \
      src/kernels/radial_gather/radial_gather.cu src/kernels/radial_gather/radial_gather_reference.cpp \
      src/kernels/wigner/wigner_reference.cpp $lib -o /tmp/rgprobe/test &
    nvcc -std=c++17 -O3 -arch=sm_90 -lineinfo -I src benchmarks/kernels/bench_k1_producer.cu -o /tmp/rgprobe/bench
    wait; } > /tmp/rgprobe/build.log 2>&1
  local sec="--section SpeedOfLight --section MemoryWorkloadAnalysis --section WarpStateStats --section Occupancy"
  sec="$sec --section LaunchStats --section SchedulerStats --section ComputeWorkloadAnalysis"
  { tail -5 /tmp/rgprobe/build.log; timeout 60 /tmp/rgprobe/test
    UMA_K1_PROBE_TABLES=0 timeout 60 /tmp/rgprobe/bench; echo "bench exit $?"
    for k in radial_gather_kernel gather_rotate_fwd_kernel; do
      echo "== ncu $k"
      UMA_K1_PROBE_TABLES=0 timeout 90 ncu --kernel-name regex:$k --launch-skip 2 --launch-count 1 $sec \
        /tmp/rgprobe/bench 2>&1 | grep -v -E "^==PROF==|^K1 producer|^gather_rotate_fwd \(|^radial_gather \("
    done; } > "$OUT/rg-probe.md" 2>&1
  grep -E "PASSED|FAILED|radial-gather cuda|^radial_gather \(|^gather_rotate_fwd \(|Duration|Throughput|Registers|Achieved Occ|resident" \
    "$OUT/rg-probe.md" | head -40
}
phase_half_probe() {  # fp16 operands holding the TF32 values against the product's TF32 TMA GEMM on one layer's
  # 18 GEMMs (benchmarks/kernels/bench_half_operands.cu, nvcc alone, ~1 min per tile width, both built at once), at
  # carbon 2000's and Cu 192's edge counts -> $OUT/half-probe.md (exit 2 of the bench: an error above its bound)
  bash tools/gpu/unpack-cutlass.sh || return 1
  mkdir -p /tmp/halfprobe
  for n in 128 256; do
    nvcc -std=c++17 -O3 -DNDEBUG --expt-relaxed-constexpr -gencode=arch=compute_90a,code=sm_90a -I src \
      -isystem .carry/deps/cutlass/include -DUMA_HALF_TILE_N=$n benchmarks/kernels/bench_half_operands.cu \
      -o /tmp/halfprobe/bench$n > /tmp/halfprobe/build$n.log 2>&1 &
  done
  wait
  { for n in 128 256; do
      [ -x /tmp/halfprobe/bench$n ] || { echo "tile N $n: build failed"; tail -5 /tmp/halfprobe/build$n.log; continue; }
      for e in 98200 14344; do
        echo "## f16 tile N $n, $e edges"; UMA_BENCH_EDGES=$e timeout 90 /tmp/halfprobe/bench$n; echo "exit $?"
      done
    done; } > "$OUT/half-probe.md" 2>&1
  grep -E "^## |one layer|largest error|exit|build failed" "$OUT/half-probe.md"
}
phase_peaks() {  # the roofline's ceilings on this GPU (benchmarks/gpu_peaks.py: TF32 / fp32 GEMM, HBM, L2) -> peaks.json
  timeout 120 $PY benchmarks/gpu_peaks.py --out "$OUT/peaks.json" 2>&1 | tail -12
}
phase_tiles_small() {  # after tf32-tiles-start: the built TMA configurations at Cu 192's edge count (14 344 rows)
  # and at carbon 2000's, to see where 64-row tiles pay -> $OUT/tiles-small.md
  while [ ! -f /tmp/tf32tiles/done ] && [ "$(left)" -gt 30 ]; do sleep 5; done
  { echo "| kernel | GEMM | m x n x k | ms | TFLOP/s |"; echo "|---|---|---|---:|---:|"
    for e in 14344 98200; do
      for b in /tmp/tf32tiles/tma?; do [ -x "$b" ] && UMA_BENCH_EDGES=$e timeout 60 "$b"; done
    done
  } > "$OUT/tiles-small.md" 2>&1
  grep "one layer" "$OUT/tiles-small.md"
}
phase_tf32_ab() {  # ours in TF32 on each TF32 GEMM path, same call, profiled, no fairchem. UMA_TF32_AB lists them
  # (default "hopper-rna cublas hopper rs"): a UMA_TF32_GEMM value, or rs-nok2 = rs without the fused gate + conv 2
  # (UMA_FUSED_GATE_CONV2=0)
  local kernels=(${UMA_TF32_AB:-hopper-rna cublas hopper rs}) i=0
  for kern in "${kernels[@]}"; do
    i=$((i + 1))
    local gemm=${kern%-nok2} k2=1
    [ "$kern" != "$gemm" ] && k2=0
    UMA_TF32_GEMM=$gemm UMA_FUSED_GATE_CONV2=$k2 bench tf32-$kern --structures carbon,cu --sizes 200,2000 \
      --ours-variants fp32_tf32 --skip-fairchem --profile --deadline $(( $(left) / (${#kernels[@]} - i + 1) - 10 ))
  done
  rm -f "$OUT"/results-tf32-*.md "$OUT"/results-tf32-*.png  # the json holds it all; a call returns few files
}
phase_gemm_tiles() {  # the split-TF32 GEMM's tile sweep and cuBLAS strict fp32 / TF32 on the engine's GEMM shapes
  # (benchmarks/kernels/bench_split_tf32_gemm.cu; one binary per tile, compiled in parallel) -> $OUT/gemm-tiles.md
  bash tools/gpu/unpack-cutlass.sh || return 1
  mkdir -p /tmp/tiles
  local src=benchmarks/kernels/bench_split_tf32_gemm.cu
  # UMA_TILE_IDS: the mma.sync tiles to build (default: the product's, 5; "0 1 2 3 4 5 6 7" for the whole sweep).
  { echo ${UMA_TILE_IDS:-5} | tr ' ' '\n' | xargs -P 8 -I{} nvcc -std=c++17 -O3 -arch=sm_90 -I src \
      -isystem .carry/deps/cutlass/include -DUMA_TILE_ID={} $src -o /tmp/tiles/tile{} &
    nvcc -std=c++17 -O3 --expt-relaxed-constexpr -gencode=arch=compute_90a,code=sm_90a -I src \
      -isystem .carry/deps/cutlass/include -DUMA_WGMMA $src src/kernels/gemm/hopper/split_tf32_wgmma.cu -o /tmp/tiles/wgmma &
    nvcc -std=c++17 -O3 -arch=sm_90 -I src -DUMA_CUBLAS $src -lcublas -o /tmp/tiles/cublas; wait; } > /tmp/tiles/build.log 2>&1
  say "tile benchmarks built: $(ls /tmp/tiles | grep -c -v log) binaries"
  { echo "| kernel | GEMM | m x n x k | ms | TFLOP/s |"; echo "|---|---|---|---:|---:|"
    for b in /tmp/tiles/cublas /tmp/tiles/tile? /tmp/tiles/wgmma; do [ -x "$b" ] && timeout 60 "$b"; done
  } > "$OUT/gemm-tiles.md" 2>&1
  cp /tmp/tiles/build.log "$OUT/gemm-tiles-build.log" 
  grep "one layer" "$OUT/gemm-tiles.md"
}

build_engine_alone() {  # the short calls' build: the engine, its GPU test and the bench only (about a minute), and
  # the targets named as arguments
  configure_gpu || return 1
  local t=$SECONDS
  timeout $(( $(left) - 30 )) ninja -C build-gpu -j16 uma_engine test_gpu_engine uma-engine-bench "$@" >> "$OUT/build.log" 2>&1 ||
    { say "build failed"; grep -E "error" "$OUT/build.log" | head -20; return 1; }
  say "built in $((SECONDS - t)) s"
}

bench_tf32() {  # bench_tf32 STRUCTURE NAME [ARGS...]: ours in TF32 on .carry/structures/STRUCTURE.json, 10 repeats,
  # its JSON line appended to $OUT/NAME.jsonl, its log to $OUT/$LOG (default NAME.log); variables set before the call
  # (UMA_TF32_PREROUND, ...) reach the bench
  local s=$1 name=$2
  shift 2
  timeout $(( $(left) - 5 )) build-gpu/benchmarks/uma-engine-bench --model potentials/uma-s-1p2p1-random-k2.uma \
    --structure .carry/structures/$s.json --device cuda --precision fp32 --tf32 --repeats 10 "$@" \
    2>> "$OUT/${LOG:-$name.log}" >> "$OUT/$name.jsonl"
}

phase_recompute() {  # EngineOptions::recompute, in one short call: builds the engine, its GPU test and the bench
  # only; runs the recompute test and the TF32 kernel checks, then ours TF32 keeping everything vs recomputing conv 1's
  # radial scale vs recomputing conv 2's outputs too (time, peak memory) on the structures carried in .carry/structures
  # (carbon/Cu 2000, Cu 192; made here by benchmarks/gpu_vs_fairchem.py's make_carbon/make_cu), then fairchem parity
  # if time is left.
  build_engine_alone || return 1
  ( cd build-gpu && timeout $(( $(left) - 5 )) ./unittest/test_gpu_engine \
      --gtest_filter='*Recompute*:*SplitTf32PassesTheFp32BoundsAndTf32IsReported*' ) > "$OUT/test_gpu.log" 2>&1
  say "recompute + TF32 tests: $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/test_gpu.log" | tr '\n' ' ')"
  grep -E "\[gpu recompute\]|Failure|Expected|Which is" "$OUT/test_gpu.log" | head -20
  local s r
  for s in carbon_2000 cu_2000 cu_192; do
    for r in no radial yes; do
      [ "$(left)" -lt 15 ] && break 2
      bench_tf32 $s recompute --recompute $r
    done
  done
  grep -E "\[bench\] (cuda|CUDA)" "$OUT/recompute.log"
  [ "$(left)" -gt 40 ] && ( cd build-gpu && timeout $(( $(left) - 5 )) ./unittest/test_gpu_engine \
      --gtest_filter='*MatchesFairchemFp64AndFp32*:*CudaGraphReplay*' ) > "$OUT/test_gpu_parity.log" 2>&1 &&
    say "parity tests: $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/test_gpu_parity.log" | tr '\n' ' ')"
}

phase_quick() {  # one short call after an engine change: engine + test_gpu_engine + bench built alone; the whole
  # test_gpu_engine, then ours TF32 (the default path) on carbon 2000 and Cu 192 with the profile (carry .carry)
  build_engine_alone test_gate_conv2_cuda test_radial_gather_cuda test_half_operands_cuda || return 1
  local s
  ( cd build-gpu && timeout 60 ./unittest/kernels/test_gate_conv2_cuda ) > "$OUT/test_k2.log" 2>&1
  say "test_gate_conv2_cuda: $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/test_k2.log" | tr '\n' ' ')"
  grep -E "^\[  FAILED|Failure|Expected|Which is|gate-conv2 cuda" "$OUT/test_k2.log" | head -20
  # The radial scale inside the gather (kernels/radial_gather/): its kernel test first; where it fails the engine runs
  # without it (UMA_FUSED_RADIAL_GATHER=0) and its engine test is left out.
  ( cd build-gpu && timeout 60 ./unittest/kernels/test_radial_gather_cuda ) >> "$OUT/test_k2.log" 2>&1
  say "test_radial_gather_cuda: $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/test_k2.log" | tail -1)"
  grep -E "radial-gather cuda|RadialGather.*FAILED" "$OUT/test_k2.log" | head -10
  local rg=1 skip=""
  tail -3 "$OUT/test_k2.log" | grep -q '^\[  PASSED  \] 3 tests' ||
    { rg=0; export UMA_FUSED_RADIAL_GATHER=0; skip="*RadialScaleInsideTheGather*"; say "radial gather engine runs skipped"; }
  # conv 1 on the fp16 message (kernels/half_operands/): its kernel tests first; where they fail the engine runs
  # without it and its engine test is left out.
  ( cd build-gpu && timeout 60 ./unittest/kernels/test_half_operands_cuda ) > "$OUT/test_half.log" 2>&1
  say "test_half_operands_cuda: $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/test_half.log" | tr '\n' ' ')"
  grep -E "half-operands cuda|^\[  FAILED|Failure|Expected|Which is" "$OUT/test_half.log" | head -20
  local half=1
  grep -q '^\[  PASSED  \] 5 tests' "$OUT/test_half.log" ||
    { half=0; skip="${skip:+$skip:}*ConvOneOnTheFp16Message*"; say "fp16-message engine runs skipped"; }
  # K2 on the TMA host in the engine only where its kernel test passed (a kernel that hangs would eat the call)
  local k2=1 filter=${UMA_QUICK_TESTS:-*}
  grep -q '^\[  PASSED  \] 2 tests' "$OUT/test_k2.log" ||
    { k2=0; skip="${skip:+$skip:}*GateInConv2*"; export UMA_FUSED_GATE_CONV2=0; say "K2 engine runs skipped"; }
  [ -n "$skip" ] && filter="$filter-$skip"
  # UMA_QUICK_TESTS: a gtest filter for a shorter call (default: every test)
  ( cd build-gpu && timeout $(( $(left) - 5 )) ./unittest/test_gpu_engine --gtest_filter="$filter" ) \
    > "$OUT/test_gpu.log" 2>&1
  say "test_gpu_engine: $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/test_gpu.log" | tr '\n' ' ')"
  grep -E "^\[  FAILED|Failure|Expected|Which is|\[gpu (radial gather|half operands|recompute|pre-rounded|parity)\]" "$OUT/test_gpu.log" | head -20
  # Each structure on the default path, with conv 1 on the fp16 message (UMA_HALF_OPERANDS=1), with the radial scale
  # made inside the gather (UMA_FUSED_RADIAL_GATHER=1) and with it off (=0), and the memory floor (recompute yes, the
  # radial gather on): A/B/C/D/E in the same call (quick.jsonl, quick-half.jsonl, quick-rg.jsonl, quick-norg.jsonl,
  # quick-rec2.jsonl).
  for s in carbon_2000 cu_192; do
    [ "$(left)" -lt 15 ] && break
    [ $k2 = 1 ] && LOG=quick.log bench_tf32 $s quick --profile
    [ $half = 1 ] && UMA_HALF_OPERANDS=1 LOG=quick.log bench_tf32 $s quick-half --profile
    [ $rg = 1 ] && UMA_FUSED_RADIAL_GATHER=1 LOG=quick.log bench_tf32 $s quick-rg --profile
    UMA_FUSED_RADIAL_GATHER=0 LOG=quick.log bench_tf32 $s quick-norg
    [ $rg = 1 ] && UMA_FUSED_RADIAL_GATHER=1 LOG=quick.log bench_tf32 $s quick-rec2 --recompute yes
  done
  grep -E "\[bench\] (cuda|CUDA)|\[profile\]   [a-zA-Z]" "$OUT/quick.log"
  # The 64-row tiles of the truncating TMA kernel (UMA_TF32_NARROW_TILES=1; every GEMM of the test structures is small
  # enough to take them): the TF32 bounds and the pre-rounded bits again.
  [ "$(left)" -gt 30 ] && ( cd build-gpu && UMA_TF32_NARROW_TILES=1 timeout $(( $(left) - 5 )) ./unittest/test_gpu_engine \
      --gtest_filter='*SplitTf32PassesTheFp32BoundsAndTf32IsReported*:*PreRounded*' ) > "$OUT/test_gpu_narrow.log" 2>&1
  say "narrow tiles: $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/test_gpu_narrow.log" | tr '\n' ' ')"
  grep -E "^\[  FAILED|Failure|Expected|Which is" "$OUT/test_gpu_narrow.log" | head -10
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

# ---------------------------------------------------------------------------------------------- UMA Nitro
NITRO_STAGE=${NITRO_STAGE:-/root/nitro-stage}  # outside the work tree: survives between calls while warm
NITRO_DIR=${NITRO_DIR:-/tmp/nitro}             # the unpacked archive: site/ (+ pt/ with --with-pt)
NITRO_PT=/tmp/uma-s-1p2p1-random-k2.pt
NITRO_UMA=potentials/uma-s-1p2p1-random-k2.uma

manifest_field() {  # $1 = manifest, $2 = part letter -> "size sha256"
  awk -v x="$2" '$1 == "part" && $2 == x { print $3, $4 }' "$1"
}

phase_stage_nitro() {  # $1 = part letter: copy the carried .carry-nitro/<x> to $NITRO_STAGE (seconds)
  local x=$1 src=.carry-nitro/$1
  if [ ! -f "$src/part-$x" ] || [ ! -f "$src/MANIFEST" ]; then
    say "stage-nitro-$x: $src/part-$x was not carried (carry=[\"$src\", ...])"; return 1
  fi
  local want got
  want=$(manifest_field "$src/MANIFEST" "$x" | cut -d' ' -f2)
  got=$(sha256sum "$src/part-$x" | cut -d' ' -f1)
  [ "$want" = "$got" ] || { say "stage-nitro-$x: sha256 $got != manifest $want"; return 1; }
  mkdir -p "$NITRO_STAGE"
  cp "$src/part-$x" "$NITRO_STAGE/part-$x"
  cp "$src/MANIFEST" "$NITRO_STAGE/MANIFEST.$x"
  say "stage-nitro-$x: $(stat -c %s "$src/part-$x") bytes in $NITRO_STAGE ($(ls "$NITRO_STAGE" | grep -c '^part-') part(s)" \
      "staged); make the next call now (the machine stays warm ~30 s)"
}

phase_build_bench() {  # $1 = seconds to keep for what follows
  configure_gpu || return 1
  local budget=$(( $(left) - ${1:-30} )) t=$SECONDS
  [ $budget -lt 20 ] && { say "build-bench: no time left"; return 1; }
  timeout $budget ninja -C build-gpu -j16 uma-engine-bench >> "$OUT/build.log" 2>&1
  local rc=$?
  say "build-bench rc=$rc in $((SECONDS - t)) s"
  [ $rc -ne 0 ] && grep -E "error|Error" "$OUT/build.log" | head -20
  return $rc
}

nitro_unpack() {  # reassemble the parts, check them, unpack to $NITRO_DIR; prints why not on failure
  local man="" x size sha f files=() found
  for f in .carry-nitro/*/MANIFEST "$NITRO_STAGE"/MANIFEST.*; do [ -f "$f" ] && { man=$f; break; }; done
  [ -n "$man" ] || { echo "no part of the Nitro archive here (none carried, none staged)"; return 1; }
  local want_all
  want_all=$(awk '$1 == "archive" { print $4 }' "$man")
  if [ -f "$NITRO_DIR/.complete" ] && [ "$(cat "$NITRO_DIR/.complete")" = "$want_all" ]; then
    echo "already unpacked"; return 0
  fi
  for f in .carry-nitro/*/MANIFEST "$NITRO_STAGE"/MANIFEST.*; do
    [ -f "$f" ] || continue
    [ "$(awk '$1 == "archive" { print $4 }' "$f")" = "$want_all" ] ||
      { echo "parts from two different prepare-nitro-carry.sh runs ($f)"; return 1; }
  done
  for x in $(awk '$1 == "part" { print $2 }' "$man"); do
    read -r size sha <<< "$(manifest_field "$man" "$x")"
    found=""
    for f in ".carry-nitro/$x/part-$x" "$NITRO_STAGE/part-$x"; do
      if [ -f "$f" ] && [ "$(stat -c %s "$f")" = "$size" ] && [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sha" ]; then
        found=$f; break
      fi
    done
    [ -n "$found" ] || { echo "part $x is missing (not carried, not staged: the machine went cold since" \
                              "stage-nitro-$x? start again with the first call)"; return 1; }
    files+=("$found")
  done
  [ "$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)" = "$want_all" ] || { echo "reassembled archive: sha256 mismatch"; return 1; }
  rm -rf "$NITRO_DIR.tmp" && mkdir -p "$NITRO_DIR.tmp"
  if command -v xz > /dev/null; then
    cat "${files[@]}" | xz -dc | tar -x -C "$NITRO_DIR.tmp" || { echo "unpacking failed"; return 1; }
  else
    cat "${files[@]}" | $PY -c 'import lzma,sys,shutil; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer)' |
      tar -x -C "$NITRO_DIR.tmp" || { echo "unpacking (python lzma) failed"; return 1; }
  fi
  rm -rf "$NITRO_DIR" && mv "$NITRO_DIR.tmp" "$NITRO_DIR"
  echo "$want_all" > "$NITRO_DIR/.complete"
  echo "unpacked ${#files[@]} part(s): $(du -sh "$NITRO_DIR" | cut -f1)"
}

phase_nitro() {
  local log="$OUT/nitro.log" t=$SECONDS msg skip=()
  : > "$log"
  if msg=$(nitro_unpack 2>&1); then
    say "nitro: $msg in $((SECONDS - t)) s"
  else
    say "nitro: Nitro archive not usable: $msg"
    skip=(--skip-nitro --skip-nitro-reason "the Nitro archive was not usable here: $msg")
  fi
  echo "unpack: $msg" >> "$log"
  mkdir -p /tmp/stub/wandb
  echo "# stub: fairchem.core.common.logger imports wandb at module level; inference never uses it" > /tmp/stub/wandb/__init__.py
  export PYTHONPATH=$NITRO_DIR/site:$NITRO_DIR/site/nvidia_cutlass_dsl/dsl_packages:/tmp/stub
  # the fairchem twin of the bundled model (~20 s from the seed)
  if [ ${#skip[@]} -eq 0 ]; then
    local src=(--from auto) pk
    pk=$(ls "$NITRO_DIR"/pt/*.half.pt 2>/dev/null | head -1)
    [ -n "$pk" ] && src=(--from packed --packed "$pk")
    t=$SECONDS
    if [ -f "$NITRO_PT.ok" ] && [ "$(cat "$NITRO_PT.ok")" = "$(sha256sum $NITRO_UMA | cut -d' ' -f1)" ]; then
      say "nitro: reusing $NITRO_PT"
    elif OMP_NUM_THREADS=8 timeout 300 $PY tools/gpu/nitro_checkpoint.py --uma $NITRO_UMA --out $NITRO_PT "${src[@]}" \
        >> "$log" 2>&1; then
      sha256sum $NITRO_UMA | cut -d' ' -f1 > "$NITRO_PT.ok"
      say "nitro: $NITRO_PT made in $((SECONDS - t)) s; $(grep -o 'rebuilt .uma sha256 [0-9a-f]* [!=]= bundled' "$log")"
    elif [ -f $NITRO_PT ]; then
      say "nitro: $NITRO_PT made in $((SECONDS - t)) s but it does NOT match the .uma:"; grep pt_check "$log" | cut -c1-600
      skip=(--skip-nitro --skip-nitro-reason "the fairchem .pt made here does not match the bundled .uma (nitro.log)")
    else
      say "nitro: making $NITRO_PT failed:"; tail -15 "$log"
      skip=(--skip-nitro --skip-nitro-reason "the fairchem .pt could not be made here (nitro.log)")
    fi
    grep -m1 '^pt_check:' "$log" > "$OUT/pt_check.txt" 2>/dev/null
  fi
  # our benchmark binary: keep ~330 s for the benchmark itself
  if [ -x build-gpu/benchmarks/uma-engine-bench ] || [ -d .carry/deps ] || [ -f build-gpu/build.ninja ]; then
    if [ $(( $(left) - 330 )) -ge 20 ]; then
      phase_build_bench 330
    else
      say "nitro: no time to check the build; using build-gpu/benchmarks/uma-engine-bench as it is"
    fi
  else
    say "nitro: no build-gpu and no .carry/deps: ours cannot be built in this call (run build-bench first)"
  fi
  t=$SECONDS
  local dl=$(( $(left) - 15 ))
  say "nitro: benchmarks/nitro_vs_ours.py (deadline ${dl} s)"
  rm -rf /tmp/nitro-out
  timeout $((dl + 10)) $PY benchmarks/nitro_vs_ours.py --bench build-gpu/benchmarks/uma-engine-bench --uma $NITRO_UMA \
    --pt $NITRO_PT --out /tmp/nitro-out --deadline "$dl" --reference "${skip[@]}" ${NITRO_BENCH_ARGS:-} >> "$log" 2>&1
  say "nitro: benchmark rc=$? in $((SECONDS - t)) s"
  grep -E '^\[(nitro|reference|bench)\]' "$log" | tail -20
  for f in nitro_vs_ours.md nitro_vs_ours.json; do [ -f /tmp/nitro-out/$f ] && cp /tmp/nitro-out/$f "$OUT/"; done
  if [ -f /tmp/nitro-out/nitro_vs_ours.md ]; then
    sed -n '/^| structure | atoms | edges/,/^$/p' /tmp/nitro-out/nitro_vs_ours.md
    grep '^ratio_vs_nitro:' /tmp/nitro-out/nitro_vs_ours.md
  fi
}

for p in "${expand[@]}"; do
  fn="phase_${p//-/_}" arg=()
  case $p in stage-nitro-?*) fn=phase_stage_nitro arg=("${p#stage-nitro-}") ;; esac
  if ! declare -F "$fn" > /dev/null; then say "unknown phase $p"; continue; fi
  if [ "$(left)" -lt 20 ]; then say "skipping $p: out of time"; continue; fi
  say "== $p"
  "$fn" "${arg[@]}"
done
say "done"
