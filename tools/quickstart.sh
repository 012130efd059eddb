#!/usr/bin/env bash
# Builds everything and runs the main example on the bundled potential (README quick start, first command).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
tools/install-deps.sh
tools/bootstrap-python.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DUMA_ENABLE_TESTS=OFF
cmake --build build -j "${UMA_JOBS:-$(nproc)}" --target uma-run
build/src/uma-run potentials/uma-s-random-k2.uma unittest/data/fixtures/omat_cu_triclinic.json --task omat
