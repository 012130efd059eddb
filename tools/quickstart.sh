#!/usr/bin/env bash
# Builds everything (engine, cached LAMMPS, the plugin) and runs the main example deck on the bundled
# potential (README quick start, first command): bulk copper, task omat, NPT, checked against its
# reference log.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
tools/install-deps.sh
tools/bootstrap-python.sh
lammps_dir="$(tools/build-lammps.sh | tail -n 1)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DUMA_ENABLE_LAMMPS=ON "-DUMA_LAMMPS_DIR=$lammps_dir"
cmake --build build -j "${UMA_JOBS:-$(nproc)}" --target umaplugin uma-run
# shellcheck disable=SC1091
source "$lammps_dir/lammps.env"
(cd examples/omat && "$LMP" -in in.cu_bulk -var plugin "$here/build/umaplugin.so" -log "$here/build/log.cu_bulk")
echo "UMA: log written to build/log.cu_bulk; comparing with the reference log:"
tools/run-examples.sh --only omat build/umaplugin.so
