#!/usr/bin/env bash
# On the GPU machine: unpack the carried CUTLASS headers (.carry/deps/cutlass-include.tar.xz, made by
# tools/gpu/prepare-carry.sh) to .carry/deps/cutlass/include, where src/kernels/CMakeLists.txt looks for them.
# Run from the repository root before configuring a CUDA build; a no-op when already unpacked.
set -euo pipefail
archive=.carry/deps/cutlass-include.tar.xz
dest=.carry/deps/cutlass/include
[ -d "$dest/cutlass" ] && exit 0
[ -f "$archive" ] || { echo "unpack-cutlass: $archive not carried (run tools/gpu/prepare-carry.sh deps)" >&2; exit 1; }
mkdir -p "$dest"
tar -C "$dest" -xJf "$archive"
