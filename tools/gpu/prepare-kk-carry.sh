#!/usr/bin/env bash
# Prepares, on this (no-GPU) machine, the ignored folder .carry-kk/ that a `run` call on the GPU machine
# carries for the uma/kk (Kokkos CUDA) runs of tools/gpu/run-kk-on-device.sh:
#   .carry-kk/lammps-kk-src.tar.xz  the CUDA Kokkos 3.4.01 install (sm_90, CUDA-13 patches) made by
#                                   tools/build-lammps-gpu.sh, its nvcc_wrapper under kokkos-src/bin (the
#                                   path KokkosConfigCommon.cmake names), the pruned LAMMPS source's cmake/
#                                   and src/ (all that a PKG_KOKKOS+PKG_PLUGIN+EXTERNAL_KOKKOS lmp build
#                                   reads) and lammps.env; stored with absolute paths (extract with -C /):
#                                   the Kokkos CMake package is not relocatable (absolute nvcc_wrapper path).
#   .carry-kk/mpi-include/          OpenMPI's C headers from here, used only if the GPU machine has no mpicxx.
#   .carry-kk/lmp-bin.tar.xz        (optional) lmp + liblammps built on the device by an earlier run
#                                   (files_at/lmp-bin.tar.xz copied here): the next run skips the LAMMPS build.
# The LAMMPS build tree itself is not made here (nvcc on 2 cores: ~20 min); the device builds it (~3 min).
# Then: run(command="bash tools/gpu/run-kk-on-device.sh", carry=[".carry-kk", ".carry/deps"])
# (.carry/deps from tools/gpu/prepare-carry.sh: nlohmann_json + GTest CMake packages).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
CACHE_ROOT=${UMA_CACHE:-$HOME/.cache/uma}
[ -f "$CACHE_ROOT/lammps-gpu-current/lammps.env" ] || { echo "no $CACHE_ROOT/lammps-gpu-current: run tools/build-lammps-gpu.sh --kokkos-only" >&2; exit 1; }
C=$(cd "$CACHE_ROOT/lammps-gpu-current" && pwd -P)
grep -qx '/.carry-kk/' .git/info/exclude || echo '/.carry-kk/' >> .git/info/exclude
mkdir -p .carry-kk/mpi-include
[ -d .carry/deps ] || { echo ".carry/deps missing: run tools/gpu/prepare-carry.sh" >&2; exit 1; }
tar -C / -cJf .carry-kk/lammps-kk-src.tar.xz "${C#/}/kokkos" "${C#/}/kokkos-src/bin/nvcc_wrapper" \
  "${C#/}/source/cmake" "${C#/}/source/src" "${C#/}/lammps.env"
cp /usr/lib/x86_64-linux-gnu/openmpi/include/*.h .carry-kk/mpi-include/ 2>/dev/null || true
echo "$C" > .carry-kk/cache-dir
tracked=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
carried=$(du -cb .carry-kk .carry/deps | tail -1 | cut -f1)
echo "travels: tracked $tracked + carried $carried bytes = $(( (tracked + carried) / 1048576 )) MiB (limit 64)"
