#!/usr/bin/env bash
# Builds everything and runs the whole test suite (the README's second quick-start command; CI runs it).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
jobs="${UMA_JOBS:-$(nproc)}"
tools/install-deps.sh
tools/bootstrap-python.sh
lammps_flags=()
if [ -x tools/build-lammps.sh ] && [ -f cmake/UMAPlugin.cmake ]; then
  lammps_dir="$(tools/build-lammps.sh | tail -n 1)"
  lammps_flags=(-DUMA_ENABLE_LAMMPS=ON "-DUMA_LAMMPS_DIR=$lammps_dir")
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DUMA_ENABLE_TESTS=ON "${lammps_flags[@]}"
cmake --build build -j "$jobs"
cd build
ctest --output-on-failure -j "${UMA_TEST_JOBS:-2}" "$@"
