#!/usr/bin/env bash
# build-lammps-gpu.sh — the GPU stack for pair_style uma/kk: Kokkos 3.4.01 with CUDA (sm_90) from
# Debian's Trilinos 13.2.0 source with the five CUDA-13 patches, and LAMMPS 29Sep2021 (Debian's
# `lammps` source package) with KOKKOS(CUDA) + PLUGIN + MPI, in a keyed cache. Recipe, patches and
# timings: docs/gpu-build.md (shared/docs/gpu-build.md).
#
# Usage: tools/build-lammps-gpu.sh [-j N] [--kokkos-only]
#   -j N           parallel jobs (default: all cores; the GPU machine has 16)
#   --kokkos-only  stop after installing Kokkos (enough to compile the CUDA plugin, e.g. in CI)
#   UMA_CACHE      cache root (default $HOME/.cache/uma)
# Needs: nvcc 13 in /usr/local/cuda/bin (or CUDA_HOME), cmake >= 3.20, ninja, g++, OpenMPI dev, curl
# or wget, and the Debian mirror named in /etc/apt/sources.list.d/debian.sources (or $MIRROR) for the two
# source tarballs; runs without a GPU (links against the CUDA driver stub).
# Last line of stdout: the cache directory, with lammps.env (LAMMPS_SOURCE_DIR, LAMMPS_INSTALL_DIR,
# LMP, KOKKOS_DIR) for -DUMA_LAMMPS_DIR; symlink $UMA_CACHE/lammps-gpu-current -> it.
# Times (2 cores): downloads seconds, Kokkos ~1 min, LAMMPS ~20 min (pruned KOKKOS styles);
# on the 16-core GPU machine expect ~1 + ~4 min. A complete cache returns in seconds.
set -euo pipefail

SCRIPT_VERSION=1
LAMMPS_ORIG=lammps_20220106.git7586adbb6a+ds1.orig.tar.xz
LAMMPS_SHA=65146c615ad24d8b8bc64f4e05e86226a7f1fdb45c0b5ea9416562b9f3863082
TRILINOS_ORIG=trilinos_13.2.0.orig.tar.gz
TRILINOS_SHA=0ddb47784ba7b8a6b9a07a4822b33be508feb4ccd54301b2a5d10c9e54524b90
# KOKKOS styles kept besides the core files LAMMPS's KOKKOS.cmake always compiles: what the example
# decks and tests use (atomic atoms, nve/nvt/npt, minimize, computes) - docs/gpu-build.md §5.
KEEP_STYLES="atom_vec_atomic fix_nve fix_nvt fix_npt fix_nh verlet npair_copy npair_skip min_cg
  npair_halffull compute_temp fix_minimize min min_linesearch fix_setforce pair_lj_cut"

JOBS=$(nproc)
KOKKOS_ONLY=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -j) JOBS="$2"; shift 2 ;;
    -j*) JOBS="${1#-j}"; shift ;;
    --kokkos-only) KOKKOS_ONLY=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "build-lammps-gpu.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

log() { echo "UMA: $*" >&2; }
die() { echo "build-lammps-gpu.sh: ERROR: $*" >&2; exit 1; }

CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
export PATH="$CUDA_HOME/bin:$PATH"
command -v nvcc >/dev/null || die "no nvcc in $CUDA_HOME/bin; install CUDA 13 or set CUDA_HOME"
NVCC_VERSION=$(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')
for tool in cmake ninja g++ mpicxx; do
  command -v "$tool" >/dev/null || die "no $tool; install cmake ninja-build g++ libopenmpi-dev"
done

# ---- cache key: source tarballs, this script (patches and flags), nvcc version ----
KEY=$(printf '%s\n' "$LAMMPS_SHA" "$TRILINOS_SHA" "$NVCC_VERSION" "$(sha256sum "$0" | cut -c1-64)" \
      "$SCRIPT_VERSION" | sha256sum | cut -c1-12)
ROOT="${UMA_CACHE:-$HOME/.cache/uma}"
CACHE="$ROOT/lammps-gpu-$KEY"
KK="$CACHE/kokkos"
STUB="$CACHE/cuda-stub"
mkdir -p "$CACHE/download" "$CACHE/logs"
finish() {
  ln -sfn "lammps-gpu-$KEY" "$ROOT/lammps-gpu-current"
  echo "$CACHE"
}
[[ -f "$CACHE/.complete" ]] && { finish; exit 0; }
[[ $KOKKOS_ONLY -eq 1 && -f "$CACHE/.kokkos-complete" ]] && { finish; exit 0; }
exec 9>"$CACHE.lock"
flock 9

# ---- 1. sources: Debian pool, verified by sha256 ----
MIRROR="${MIRROR:-$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)}"
[[ -n "${MIRROR:-}" ]] || die "no Debian mirror in /etc/apt/sources.list.d/debian.sources; set MIRROR to its URI"
fetch() {    # fetch FILE POOLDIR SHA
  local file="$1" dir="$2" sha="$3" dest="$CACHE/download/$1"
  if [[ ! -f "$dest" ]]; then
    for other in "$ROOT"/lammps-*/download/"$file"; do    # the CPU cache may hold it already
      [[ -f "$other" ]] && { cp "$other" "$dest"; break; }
    done
  fi
  if [[ ! -f "$dest" ]]; then
    log "downloading $file"
    if command -v curl >/dev/null; then curl -fsSL -o "$dest.part" "$MIRROR/pool/main/$dir/$file"
    else wget -q -O "$dest.part" "$MIRROR/pool/main/$dir/$file"; fi
    mv "$dest.part" "$dest"
  fi
  [[ "$(sha256sum "$dest" | cut -d' ' -f1)" == "$sha" ]] \
    || { rm -f "$dest"; die "sha256 of $file does not match; download removed, rerun"; }
}
fetch "$TRILINOS_ORIG" t/trilinos "$TRILINOS_SHA"

# ---- 2. Kokkos 3.4.01 with CUDA-13 patches (docs/gpu-build.md §2) ----
if [[ ! -f "$CACHE/.kokkos-complete" ]]; then
  rm -rf "$CACHE/kokkos-src" "$CACHE/kokkos-build" "$KK" "$CACHE/unpack"
  mkdir -p "$CACHE/unpack"
  tar xzf "$CACHE/download/$TRILINOS_ORIG" -C "$CACHE/unpack" --wildcards 'Trilinos-*/packages/kokkos'
  mv "$CACHE"/unpack/Trilinos-*/packages/kokkos "$CACHE/kokkos-src"
  rm -rf "$CACHE/unpack"
  (
    cd "$CACHE/kokkos-src"
    sed -i 's/^default_arch="sm_35"/default_arch="sm_90"/' bin/nvcc_wrapper
    sed -i 's/^KOKKOS_ARCH_OPTION(AMPERE86 .*/&\nKOKKOS_ARCH_OPTION(HOPPER90        GPU  "NVIDIA Hopper generation CC 9.0")/' cmake/kokkos_arch.cmake
    sed -i 's/^CHECK_CUDA_ARCH(AMPERE86  sm_86)/&\nCHECK_CUDA_ARCH(HOPPER90  sm_90)/' cmake/kokkos_arch.cmake
    sed -i 's/^#cmakedefine KOKKOS_ARCH_AMPERE86/&\n#cmakedefine KOKKOS_ARCH_HOPPER90/' cmake/KokkosCore_config.h.in
    sed -i 's/cudaGraphAddDependencies(m_graph, &pred_cuda_node, &cuda_node, 1)/cudaGraphAddDependencies(m_graph, \&pred_cuda_node, \&cuda_node, nullptr, 1)/' core/src/Cuda/Kokkos_Cuda_Graph_Impl.hpp
    sed -i 's/cudaMemPrefetchAsync(ptr, bytes, space.cuda_device(),/cudaMemPrefetchAsync(ptr, bytes, cudaMemLocation{cudaMemLocationTypeDevice, space.cuda_device()}, 0,/' core/src/Cuda/Kokkos_CudaSpace.cpp
    sed -i '880,960{s/return __half2double(val);/return static_cast<double>(__half2float(half_t::impl_type(val)));/;s/return \(__half2[a-z_]*\)(val);/return \1(half_t::impl_type(val));/}' core/src/Cuda/Kokkos_Cuda_Half.hpp
    # sed does not fail when nothing matches: check that every edit landed.
    grep -q 'default_arch="sm_90"' bin/nvcc_wrapper || die "patch 1 (nvcc_wrapper sm_90) did not apply"
    grep -q HOPPER90 cmake/kokkos_arch.cmake || die "patch 2 (HOPPER90 option) did not apply"
    grep -q HOPPER90 cmake/KokkosCore_config.h.in || die "patch 2 (HOPPER90 define) did not apply"
    grep -q 'nullptr, 1)' core/src/Cuda/Kokkos_Cuda_Graph_Impl.hpp || die "patch 3 (cudaGraphAddDependencies) did not apply"
    grep -q 'cudaMemLocation{' core/src/Cuda/Kokkos_CudaSpace.cpp || die "patch 4 (cudaMemPrefetchAsync) did not apply"
    [[ $(grep -c 'half_t::impl_type(val)' core/src/Cuda/Kokkos_Cuda_Half.hpp) -ge 8 ]] \
      || die "patch 5 (half_t conversions) did not apply"
  )
  log "Kokkos patched; configuring and building (about 1 min on 2 cores)"
  cmake -G Ninja -S "$CACHE/kokkos-src" -B "$CACHE/kokkos-build" -DCMAKE_INSTALL_PREFIX="$KK" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$CACHE/kokkos-src/bin/nvcc_wrapper" \
    -DCMAKE_CXX_STANDARD=17 -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=ON \
    -DKokkos_ENABLE_SERIAL=ON -DKokkos_ENABLE_OPENMP=ON -DKokkos_ENABLE_CUDA=ON \
    -DKokkos_ENABLE_CUDA_LAMBDA=ON -DKokkos_ARCH_HOPPER90=ON >"$CACHE/logs/kokkos-configure.log" 2>&1 \
    || die "Kokkos configure failed; see $CACHE/logs/kokkos-configure.log"
  ninja -C "$CACHE/kokkos-build" -j "$JOBS" install >"$CACHE/logs/kokkos-build.log" 2>&1 \
    || die "Kokkos build failed; see $CACHE/logs/kokkos-build.log"
  touch "$CACHE/.kokkos-complete"
fi
[[ -x "$KK/bin/nvcc_wrapper" ]] || die "no $KK/bin/nvcc_wrapper after the Kokkos install"

# ---- 3. the driver stub, for linking on a machine without a GPU driver (never at run time) ----
mkdir -p "$STUB"
for n in libcuda.so libcuda.so.1; do ln -sf "$CUDA_HOME/lib64/stubs/libcuda.so" "$STUB/$n"; done

write_env() {
  cat >"$CACHE/lammps.env" <<EOF
LAMMPS_SOURCE_DIR=$CACHE/source
LAMMPS_INSTALL_DIR=$CACHE/install
LMP=$CACHE/install/bin/lmp
KOKKOS_DIR=$KK/lib/cmake/Kokkos
CUDA_STUB_DIR=$STUB
EOF
}

# ---- 4. LAMMPS source, KOKKOS styles pruned to what we use (docs/gpu-build.md §5) ----
fetch "$LAMMPS_ORIG" l/lammps "$LAMMPS_SHA"
if [[ ! -f "$CACHE/source/src/pair.h" ]]; then
  rm -rf "$CACHE/source" "$CACHE/unpack"
  mkdir -p "$CACHE/unpack"
  tar -xf "$CACHE/download/$LAMMPS_ORIG" -C "$CACHE/unpack"
  mv "$CACHE/unpack/$(ls "$CACHE/unpack")" "$CACHE/source"
  rmdir "$CACHE/unpack"
  core=$(sed -n 's/.*\${KOKKOS_PKG_SOURCES_DIR}\/\([a-z_]*_kokkos\)\.cpp.*/\1/p' \
         "$CACHE/source/cmake/Modules/Packages/KOKKOS.cmake" | sort -u)
  keep=" $(echo $core) $(for s in $KEEP_STYLES; do echo -n "${s}_kokkos "; done)"
  for cpp in "$CACHE"/source/src/KOKKOS/*_kokkos.cpp; do
    base=$(basename "$cpp" .cpp)
    # Keep headers: header-only *_kokkos.h (and the plugin's includes) are needed anyway.
    [[ "$keep" == *" $base "* ]] || rm -f "$cpp"
  done
  # LAMMPS's CMake registers every style header it finds (RegisterStylesExt): drop the style headers
  # whose .cpp was pruned, else lmp fails to link (undefined PairCoulCutKokkos<Cuda>, ...; seen on the
  # H100, 2026-11-26). Header-only helpers without a style macro stay.
  for h in "$CACHE"/source/src/KOKKOS/*_kokkos.h; do
    [[ -f "${h%.h}.cpp" ]] && continue
    grep -qE '^ *(Pair|Fix|Compute|Atom|Region|Minimize|NPair|NBin|NStencil|Integrate|Command|Bond|Angle|Dihedral|Improper|KSpace|Dump|Body)Style\(' "$h" \
      && rm -f "$h"
  done
  log "KOKKOS styles kept: $(ls "$CACHE"/source/src/KOKKOS/*_kokkos.cpp | wc -l) .cpp files"
fi
if [[ $KOKKOS_ONLY -eq 1 ]]; then
  write_env
  finish
  exit 0
fi

# ---- 5. LAMMPS with KOKKOS(CUDA) + PLUGIN (no LAMMPS patch), built with Kokkos' nvcc_wrapper ----
cmake -G Ninja -S "$CACHE/source/cmake" -B "$CACHE/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$CACHE/install" -DCMAKE_CXX_COMPILER="$KK/bin/nvcc_wrapper" \
  -DCMAKE_CXX_STANDARD=17 -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=on \
  -DBUILD_MPI=on -DBUILD_OMP=on -DPKG_KOKKOS=on -DPKG_PLUGIN=on -DEXTERNAL_KOKKOS=yes \
  -DKokkos_DIR="$KK/lib/cmake/Kokkos" -DWITH_JPEG=no -DWITH_PNG=no -DWITH_FFMPEG=no -DWITH_GZIP=no \
  -DBUILD_TOOLS=no -DBUILD_DOC=no '-DCMAKE_INSTALL_RPATH=$ORIGIN/../lib' \
  -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$STUB" -DCMAKE_SHARED_LINKER_FLAGS="-Wl,-rpath-link,$STUB" \
  >"$CACHE/logs/lammps-configure.log" 2>&1 || die "LAMMPS configure failed; see $CACHE/logs/lammps-configure.log"
log "building LAMMPS KOKKOS/CUDA with -j$JOBS (~20 min on 2 cores, ~4 min on 16)"
ninja -C "$CACHE/build" -j "$JOBS" >"$CACHE/logs/lammps-build.log" 2>&1 \
  || die "LAMMPS build failed; see $CACHE/logs/lammps-build.log"
cmake --install "$CACHE/build" >"$CACHE/logs/lammps-install.log" 2>&1 \
  || die "LAMMPS install failed; see $CACHE/logs/lammps-install.log"
# The Kokkos libraries next to liblammps, so that lmp finds them through its $ORIGIN/../lib RUNPATH.
cp -a "$KK"/lib/libkokkos*.so* "$CACHE/install/lib/"
[[ -x "$CACHE/install/bin/lmp" ]] || die "no $CACHE/install/bin/lmp after install"
write_env
printf 'lammps %s\ntrilinos %s\nnvcc %s\nscript %s\nbuilt %s\n' "$LAMMPS_SHA" "$TRILINOS_SHA" \
  "$NVCC_VERSION" "$SCRIPT_VERSION" "$(date -u +%FT%TZ)" >"$CACHE/.complete"
log "LAMMPS KOKKOS/CUDA ready (run lmp on a GPU machine; it needs the driver's libcuda.so.1)"
finish
