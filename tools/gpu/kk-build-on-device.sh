# shellcheck shell=bash disable=SC2034  # sets variables for the script that sources it
# Sourced (not run) on the GPU machine by tools/gpu/run-kk-on-device.sh and tools/gpu/run-kk-matrix.sh:
# unpacks the carried CUDA Kokkos + pruned LAMMPS source (.carry-kk, tools/gpu/prepare-kk-carry.sh), builds
# lmp (KOKKOS/CUDA + PLUGIN + MPI, nvcc_wrapper) in the background and this project's umaplugin (CUDA +
# Kokkos, against the machine's torch) side by side, -j$(nproc).
#
# The caller has set: ROOT (and cd'ed there), OUT, PY, LIMIT/T_START, and the functions say() and left().
# Optional: KK_BUILD_OUT (folder for env.txt, lammps-build.log, plugin-build.log; default $OUT),
#           KK_NOTE_LOG (file for the header-pruning note; default $OUT/runs.log),
#           KK_LMPBIN_OUT (where a freshly built lmp + liblammps is packed; default $OUT/lmp-bin.tar.xz),
#           KK_BUILD_NO_EXIT=1 (on failure `return 1` from this file instead of `exit 1`).
# Sets: C KK LB LMP PB PLUGIN TD MPI_HINTS LRC PRC KK_LMPBIN_PID KK_BUILD_OK, and LD_LIBRARY_PATH.
#
# Idempotent on a warm machine (same machine, later call): the unpack is skipped when $C holds this
# tarball's stamp, lmp is not rebuilt when $LB/lmp exists, and the plugin is only re-`ninja`ed when
# $PB/build.ninja exists (no cmake run; a no-op when no source changed).
# If .carry-kk/lmp-bin.tar.xz exists (lmp-bin.tar.xz of an earlier call), the LAMMPS build is skipped.

KK_BUILD_OUT=${KK_BUILD_OUT:-$OUT}
KK_NOTE_LOG=${KK_NOTE_LOG:-$OUT/runs.log}
KK_LMPBIN_OUT=${KK_LMPBIN_OUT:-$OUT/lmp-bin.tar.xz}
KK_BUILD_OK=0
KK_LMPBIN_PID=
mkdir -p "$KK_BUILD_OUT"
kk_fail() { if [ "${KK_BUILD_NO_EXIT:-0}" = 1 ]; then return 1; else exit 1; fi; }
NJOBS=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 16)  # not nproc: it obeys OMP_NUM_THREADS=1

# ---- 1. unpack Kokkos + LAMMPS source at the absolute path they were configured with ----
C=$(cat .carry-kk/cache-dir)
KK=$C/kokkos
LB=/tmp/lmp-build
LMP=$LB/lmp
PB=/tmp/plugin-build
PLUGIN=$PB/umaplugin.so
KK_STAMP=$(md5sum < .carry-kk/lammps-kk-src.tar.xz | cut -d' ' -f1)
if [ -f "$C/.uma-unpack-stamp" ] && [ "$(cat "$C/.uma-unpack-stamp")" = "$KK_STAMP" ]; then
  echo "unpack skipped: $C already holds this lammps-kk-src.tar.xz (warm machine)" >> "$KK_NOTE_LOG"
else
  tar -C / -xJf .carry-kk/lammps-kk-src.tar.xz || { say "unpack failed"; kk_fail || return 1; }
  mkdir -p "$C/install/bin" "$C/install/lib"
  ln -sfn "$C" "$(dirname "$C")/lammps-gpu-current"
  # tools/build-lammps-gpu.sh prunes src/KOKKOS by deleting *_kokkos.cpp only; LAMMPS's cmake registers every
  # style header it finds (RegisterStylesExt), so lmp then fails to link (undefined PairCoulCutKokkos<Cuda>,
  # ... ; first device run, 2026-11-26). Drop the style headers whose .cpp was pruned (none is included by a
  # kept .cpp; npair_ssa_kokkos.cpp includes nbin_ssa_kokkos.h but is built only with DPD-REACT).
  n=0
  for h in "$C"/source/src/KOKKOS/*_kokkos.h; do
    [ -f "${h%.h}.cpp" ] && continue
    grep -qE '^ *(Pair|Fix|Compute|Atom|Region|Minimize|NPair|NBin|NStencil|Integrate|Command|Bond|Angle|Dihedral|Improper|KSpace|Dump|Body)Style\(' "$h" \
      && { rm -f "$h"; n=$((n + 1)); }
  done
  echo "pruned $n KOKKOS style headers without a .cpp" >> "$KK_NOTE_LOG"
  # Kokkos' CMake package names /usr/local/cuda/lib/{libcudart.so,stubs/libcuda.so}; use lib64 if lib is absent.
  if [ ! -e /usr/local/cuda/lib/libcudart.so ]; then
    sed -i 's#/usr/local/cuda/lib/#/usr/local/cuda/lib64/#g' "$KK"/lib/cmake/Kokkos/*.cmake
  fi
  echo "$KK_STAMP" > "$C/.uma-unpack-stamp"
fi
{
  date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; nproc
  $PY -c 'import torch;print("torch",torch.__version__,"cuda",torch.version.cuda)'
  cmake --version | head -1; g++ --version | head -1; nvcc --version | tail -2
  echo "mpicxx: $(command -v mpicxx || echo absent)"; mpicxx --showme 2>&1 | head -1
  ls /usr/local/cuda/lib/libcudart.so /usr/local/cuda/lib64/libcudart.so /usr/local/cuda/lib64/stubs/libcuda.so 2>&1
  ls /usr/lib/x86_64-linux-gnu/libmpi* 2>&1 | head -5
} > "$KK_BUILD_OUT/env.txt" 2>&1
say "env: $(grep -m1 H100 "$KK_BUILD_OUT/env.txt"); $(grep -m1 torch "$KK_BUILD_OUT/env.txt"); mpicxx: $(grep -m1 mpicxx: "$KK_BUILD_OUT/env.txt"); $NJOBS cores"

MPI_HINTS=()
if ! command -v mpicxx >/dev/null; then
  lib=$(ls /usr/lib/x86_64-linux-gnu/libmpi.so.40* /usr/lib/x86_64-linux-gnu/openmpi/lib/libmpi.so* 2>/dev/null | head -1)
  say "no mpicxx: carried OpenMPI headers + $lib"
  for l in C CXX; do
    MPI_HINTS+=(-DMPI_${l}_HEADER_DIR=$ROOT/.carry-kk/mpi-include -DMPI_${l}_LIB_NAMES=mpi -DMPI_${l}_COMPILER=NOTFOUND)
  done
  MPI_HINTS+=(-DMPI_mpi_LIBRARY=$lib)
fi

# ---- 2. LAMMPS (background) and umaplugin, side by side ----
build_lammps() {
  if [ -x $LB/lmp ]; then
    echo "lmp already built in $LB (warm machine): not rebuilt"
    return
  fi
  if [ -f .carry-kk/lmp-bin.tar.xz ]; then
    mkdir -p $LB && tar -C $LB -xJf .carry-kk/lmp-bin.tar.xz && echo "lmp from the carried lmp-bin.tar.xz"
    return
  fi
  timeout 120 cmake -G Ninja -S "$C/source/cmake" -B $LB -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER="$KK/bin/nvcc_wrapper" -DCMAKE_CXX_STANDARD=17 -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DBUILD_SHARED_LIBS=on -DBUILD_MPI=on -DBUILD_OMP=on -DPKG_KOKKOS=on -DPKG_PLUGIN=on -DEXTERNAL_KOKKOS=yes \
    -DKokkos_DIR="$KK/lib/cmake/Kokkos" -DWITH_JPEG=no -DWITH_PNG=no -DWITH_FFMPEG=no -DWITH_GZIP=no \
    -DBUILD_TOOLS=no -DBUILD_DOC=no "${MPI_HINTS[@]}" || return 1
  timeout 420 ninja -C $LB -j"$NJOBS" lmp
}
LMP_WAS_BUILT=0
[ ! -x $LB/lmp ] && [ ! -f .carry-kk/lmp-bin.tar.xz ] && LMP_WAS_BUILT=1
( t=$SECONDS; build_lammps > "$KK_BUILD_OUT/lammps-build.log" 2>&1; rc=$?
  echo "rc=$rc in $((SECONDS - t)) s" >> "$KK_BUILD_OUT/lammps-build.log"; exit $rc ) &
LPID=$!

TD=$($PY -c 'import torch;print(torch.utils.cmake_prefix_path)')/Torch
t=$SECONDS
# A build folder configured from another checkout path is stale: configure afresh.
if [ -f $PB/CMakeCache.txt ] && ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$ROOT" $PB/CMakeCache.txt; then
  rm -rf $PB
fi
# The CUTLASS headers live under the carried .carry/deps, which each call replaces: unpack them every time (a no-op
# when present), also for a warm build folder (a call on a warm machine failed without them, 2026-12-06).
{ bash tools/gpu/unpack-cutlass.sh &&
  if [ -f $PB/build.ninja ]; then
    echo "plugin build folder exists (warm machine): ninja only"
  else
    timeout 120 cmake -S . -B $PB -G Ninja -DCMAKE_BUILD_TYPE=Release -DUMA_ENABLE_CUDA=ON -DUMA_ENABLE_TESTS=OFF \
      -DUMA_ENABLE_LAMMPS=ON -DUMA_ENABLE_KOKKOS=ON -DUMA_LAMMPS_DIR="$C" -DKokkos_DIR="$KK/lib/cmake/Kokkos" \
      -DTorch_DIR="$TD" -DUMA_PYTHON="$PY" -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" \
      -Dnlohmann_json_DIR="$ROOT/.carry/deps/share/cmake/nlohmann_json" \
      -DGTest_DIR="$ROOT/.carry/deps/lib/x86_64-linux-gnu/cmake/GTest" "${MPI_HINTS[@]}"
  fi &&
  timeout 420 ninja -C $PB -j"$NJOBS" umaplugin; } > "$KK_BUILD_OUT/plugin-build.log" 2>&1
PRC=$?
say "plugin build rc=$PRC in $((SECONDS - t)) s"
[ $PRC -ne 0 ] && grep -E "error|Error" "$KK_BUILD_OUT/plugin-build.log" | head -30
wait $LPID; LRC=$?
say "lammps build: $(tail -1 "$KK_BUILD_OUT/lammps-build.log")"
[ $LRC -ne 0 ] && grep -E "error|Error|FAILED" "$KK_BUILD_OUT/lammps-build.log" | head -30
if [ $LRC -eq 0 ] && [ $LMP_WAS_BUILT = 1 ]; then   # for a second call: skip this build
  ( mkdir -p /tmp/lmpbin && cp -a $LB/lmp $LB/liblammps.so* /tmp/lmpbin/ && strip /tmp/lmpbin/lmp /tmp/lmpbin/liblammps.so.0 2>/dev/null
    tar -C /tmp/lmpbin -cJf "$KK_LMPBIN_OUT" . ) &
  KK_LMPBIN_PID=$!
fi
export LD_LIBRARY_PATH=$KK/lib:$LB:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
if [ $LRC -ne 0 ] || [ $PRC -ne 0 ]; then
  say "build failed; nothing to run"
  kk_fail || return 1
fi
KK_BUILD_OK=1
