#!/usr/bin/env bash
# Builds everything and runs the whole test suite (the README's second quick-start command; CI runs it).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
jobs="${UMA_JOBS:-$(nproc)}"
# Where the wall time goes (the CI aims at 45 minutes cold on 2 cores): seconds since the start after each stage.
t0=$SECONDS
stage_done() { echo "UMA: $1 done at +$((SECONDS - t0)) s"; }
tools/install-deps.sh
tools/bootstrap-python.sh
stage_done "dependencies and Python environment"
# The test models that are not in the tree (the bundled models must stay small): made from their
# recorded seeds with fairchem and checked against their sha256 (potentials/README.md).
tools/make-test-models
stage_done "test models"
# LAMMPS 29Sep2021 (with Kokkos: everything, uma/kk included) and the current LAMMPS 4Feb2025 (Debian
# trixie's source; no KOKKOS) for the plain pair_style uma: one build folder, the engine compiled once,
# one plugin per LAMMPS (build/umaplugin.so, build/lammps-4Feb2025/umaplugin.so). The tests against
# 4Feb2025 (LAMMPS-level, example decks, LAMMPS's force-style harness) are named *_4Feb2025 and
# labelled lammps-4Feb2025 (cmake/UMAPlugin.cmake).
lammps_flags=()
if [ -x tools/build-lammps.sh ] && [ -f cmake/UMAPlugin.cmake ]; then
  lammps_dir="$(tools/build-lammps.sh -j "$jobs" | tail -n 1)"
  lammps_new_dir="$(tools/build-lammps.sh --version 4Feb2025 -j "$jobs" | tail -n 1)"
  lammps_flags=(-DUMA_ENABLE_LAMMPS=ON -DUMA_ENABLE_KOKKOS=ON "-DUMA_LAMMPS_DIR=$lammps_dir"
                "-DUMA_LAMMPS_EXTRA_DIRS=$lammps_new_dir")
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DUMA_ENABLE_TESTS=ON "${lammps_flags[@]}"
stage_done "LAMMPS builds and configuration"
cmake --build build -j "$jobs"
stage_done "CPU build"
# The CUDA code cannot run here, but it must compile and link (nvcc, sm_90 + PTX): checked before the
# tests so a CUDA-only break fails CI too. Skipped where there is no nvcc.
if command -v nvcc >/dev/null 2>&1; then
  # The fused stages' GPU test cases (#ifdef UMA_HAVE_CUDA_KERNELS) compile only here: build them too (~1.5 min).
  cuda_targets=(uma_engine test_wigner_cuda test_gpu_engine test_exchange_plan test_edge_gate test_edge_geometry
                test_layer_norm_silu test_rms_norm_sh test_node_gate test_tf32_tma_gemm_cuda
                test_tf32_rs_wgmma_cuda test_gate_conv2_cuda test_half_operands_cuda)
  # The plugins on the same CUDA engine, compiled once in one folder: uma/kk for a CUDA Kokkos (only Kokkos itself
  # is needed, about a minute, not a CUDA LAMMPS; 29Sep2021 sources) and the plain plugin (device cuda) against the
  # current LAMMPS 4Feb2025. Only their glue is compiled on top of the engine.
  cuda_lammps_flags=()
  if [ ${#lammps_flags[@]} -gt 0 ]; then
    kk_dir="$(tools/build-lammps-gpu.sh --kokkos-only -j "$jobs" | tail -n 1)"
    cuda_lammps_flags=(-DUMA_ENABLE_LAMMPS=ON -DUMA_ENABLE_KOKKOS=ON "-DUMA_LAMMPS_DIR=$kk_dir"
                       "-DUMA_LAMMPS_EXTRA_DIRS=$lammps_new_dir" "-DKokkos_DIR=$kk_dir/kokkos/lib/cmake/Kokkos"
                       "-DCMAKE_SHARED_LINKER_FLAGS=-Wl,-rpath-link,$kk_dir/cuda-stub")
    cuda_targets+=(umaplugin umaplugin_4Feb2025)
  fi
  cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DUMA_ENABLE_CUDA=ON -DUMA_ENABLE_TESTS=ON \
    "${cuda_lammps_flags[@]}"
  cmake --build build-cuda -j "$jobs" --target "${cuda_targets[@]}"
  echo "UMA: CUDA variant compiled and linked (kernels, engine with fused ops, GPU tests, ${cuda_targets[*]})"
  stage_done "CUDA compile check"
else
  echo "UMA: no nvcc; CUDA compile check skipped"
fi
cd build && exec ctest --output-on-failure -j "${UMA_TEST_JOBS:-2}" "$@"
