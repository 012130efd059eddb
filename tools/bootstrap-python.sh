#!/usr/bin/env bash
# Creates (or reuses) the project-local virtual environment .venv with the pinned LibTorch and the
# fairchem-core reference oracle. Idempotent: a stamp file records the pins it was built with.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
# Pins. torch follows fairchem-core: no fairchem-core release accepts torch 2.11 (the GPU machine's):
# 2.18-2.21 pin torch~=2.8, 2.22-2.24 pin torch~=2.13. See README "Dependencies".
TORCH_VERSION=2.13.0
FAIRCHEM_VERSION=2.24.0
venv="${UMA_VENV:-$here/.venv}"
stamp="$venv/.uma-pins"
want="torch==$TORCH_VERSION fairchem-core==$FAIRCHEM_VERSION"
# CUTLASS C++ headers (the CUDA kernels' tensor-core GEMM; headers only, no deps): checked on their own so that
# an existing .venv gains them without being rebuilt.
CUTLASS_VERSION=4.2.0.0
ensure_cutlass() {
  if ! "$venv/bin/python" -m pip show "nvidia-cutlass" 2> /dev/null | grep -q "^Version: $CUTLASS_VERSION$"; then
    "$venv/bin/pip" install -q --no-deps "nvidia-cutlass==$CUTLASS_VERSION"
  fi
}
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  ensure_cutlass
  echo "UMA: reusing $venv ($want)"; exit 0
fi
echo "UMA: creating $venv with $want"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q "torch==$TORCH_VERSION" "fairchem-core==$FAIRCHEM_VERSION" safetensors
ensure_cutlass
echo "$want" > "$stamp"
