#!/usr/bin/env bash
# Builds everything and runs the whole test suite (the README's second quick-start command; CI runs it).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
jobs="${UMA_JOBS:-$(nproc)}"
tools/install-deps.sh
tools/bootstrap-python.sh
# The test models that are not in the tree (the bundled models must stay small): made from their
# recorded seeds with fairchem and checked against their sha256 (potentials/README.md).
tools/make-test-models
lammps_flags=()
if [ -x tools/build-lammps.sh ] && [ -f cmake/UMAPlugin.cmake ]; then
  lammps_dir="$(tools/build-lammps.sh | tail -n 1)"
  lammps_flags=(-DUMA_ENABLE_LAMMPS=ON -DUMA_ENABLE_KOKKOS=ON "-DUMA_LAMMPS_DIR=$lammps_dir")
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DUMA_ENABLE_TESTS=ON "${lammps_flags[@]}"
cmake --build build -j "$jobs"
# The CUDA code cannot run here, but it must compile and link (nvcc, sm_90 + PTX): checked before the
# tests so a CUDA-only break fails CI too. Skipped where there is no nvcc.
if command -v nvcc >/dev/null 2>&1; then
  cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DUMA_ENABLE_CUDA=ON -DUMA_ENABLE_TESTS=ON
  cmake --build build-cuda -j "$jobs" --target uma_engine test_wigner_cuda test_gpu_engine test_exchange_plan
  echo "UMA: CUDA variant compiled and linked (kernels, engine with fused ops, GPU tests, NCCL halo exchange)"
  if [ ${#lammps_flags[@]} -gt 0 ]; then
    # uma/kk for a CUDA Kokkos: only Kokkos itself is needed (about a minute), not a CUDA LAMMPS.
    kk_dir="$(tools/build-lammps-gpu.sh --kokkos-only -j "$jobs" | tail -n 1)"
    cmake -S . -B build-kk-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DUMA_ENABLE_TESTS=OFF -DUMA_ENABLE_CUDA=ON \
      -DUMA_ENABLE_LAMMPS=ON -DUMA_ENABLE_KOKKOS=ON "-DUMA_LAMMPS_DIR=$kk_dir" "-DKokkos_DIR=$kk_dir/kokkos/lib/cmake/Kokkos" \
      "-DCMAKE_SHARED_LINKER_FLAGS=-Wl,-rpath-link,$kk_dir/cuda-stub"
    cmake --build build-kk-cuda -j "$jobs" --target umaplugin
    echo "UMA: CUDA variant of the plugin (uma/kk on Kokkos CUDA) compiled and linked"
  fi
else
  echo "UMA: no nvcc; CUDA compile check skipped"
fi
# The plain pair_style uma against the current LAMMPS too (4Feb2025, Debian trixie's source; no
# KOKKOS): a second build folder with only the plugin built (the engine is compiled once more there),
# and only its LAMMPS-level and example tests run (label lammps-4Feb2025, names suffixed _4Feb2025).
if [ ${#lammps_flags[@]} -gt 0 ]; then
  lammps_new_dir="$(tools/build-lammps.sh --version 4Feb2025 | tail -n 1)"
  cmake -S . -B build-lammps-new -G Ninja -DCMAKE_BUILD_TYPE=Release -DUMA_ENABLE_TESTS=ON \
    -DUMA_ENABLE_LAMMPS=ON -DUMA_ENABLE_KOKKOS=OFF "-DUMA_LAMMPS_DIR=$lammps_new_dir"
  cmake --build build-lammps-new -j "$jobs" --target umaplugin
fi
status=0
(cd build && ctest --output-on-failure -j "${UMA_TEST_JOBS:-2}" "$@") || status=$?
if [ ${#lammps_flags[@]} -gt 0 ]; then
  (cd build-lammps-new && ctest --output-on-failure -j "${UMA_TEST_JOBS:-2}" -L lammps-4Feb2025 "$@") \
    || status=$?
fi
exit $status
