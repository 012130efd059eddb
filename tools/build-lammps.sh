#!/usr/bin/env bash
# build-lammps.sh — fetch, verify, configure, build and install LAMMPS 29Sep2021 (Debian's `lammps`
# source package) with KOKKOS (external Debian Kokkos 3.4.01, Serial), PLUGIN, MPI and OpenMP, into a
# keyed cache outside the work tree. The plugin compiles against the cached source tree (<src>/src and
# <src>/src/KOKKOS): installed LAMMPS headers are only the public library API.
#
# Usage: tools/build-lammps.sh [-j N]
#   UMA_CACHE  cache root (default $HOME/.cache/uma)
# Last line of stdout: the cache directory. Also writes <cache>/lammps.env and the symlink
# $UMA_CACHE/lammps-current -> <cache>. A complete cache (stamp file) returns in seconds.
# Recipe and the two libtrilinos-kokkos-dev packaging workarounds: docs/cpu-stack.md.
set -euo pipefail

SCRIPT_VERSION=1
LAMMPS_PKG_VERSION="20220106.git7586adbb6a+ds1-2"
KOKKOS_PKG=libtrilinos-kokkos-dev
APT_PACKAGES=(build-essential cmake ninja-build libopenmpi-dev openmpi-bin "$KOKKOS_PKG" xz-utils
              ca-certificates dpkg-dev)

JOBS=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    -j) JOBS="$2"; shift 2 ;;
    -j*) JOBS="${1#-j}"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "build-lammps.sh: unknown argument '$1' (expected -j N)" >&2; exit 2 ;;
  esac
done

log() { echo "UMA: $*" >&2; }
die() { echo "build-lammps.sh: ERROR: $*" >&2; exit 1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@";
  else die "need root to run '$*'; run as root or install sudo"; fi
}

# ---- 1. system packages (only when something is missing: a warm machine skips apt entirely) ----
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
APT_UPDATED=0
if [[ ${#missing[@]} -gt 0 ]]; then
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  APT_UPDATED=1
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

# ---- 2. cache key: LAMMPS version, Kokkos package version, cmake flags, script version ----
KOKKOS_VERSION=$(dpkg-query -W -f='${Version}' "$KOKKOS_PKG")
CMAKE_FLAGS=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=on -DBUILD_MPI=on -DBUILD_OMP=on
  -DPKG_KOKKOS=on -DEXTERNAL_KOKKOS=yes -DPKG_PLUGIN=on -DBUILD_TOOLS=off -DWITH_JPEG=no
  -DWITH_PNG=no -DWITH_FFMPEG=no -DWITH_GZIP=no -DCMAKE_CXX_FLAGS=-I/usr/include/trilinos
  '-DCMAKE_INSTALL_RPATH=$ORIGIN/../lib')    # lmp finds its liblammps.so without LD_LIBRARY_PATH
KEY=$(printf '%s\n' "$LAMMPS_PKG_VERSION" "$KOKKOS_VERSION" "${CMAKE_FLAGS[*]}" "$SCRIPT_VERSION" \
      | sha256sum | cut -c1-12)
ROOT="${UMA_CACHE:-$HOME/.cache/uma}"
CACHE="$ROOT/lammps-$KEY"
STAMP="$CACHE/.complete"
mkdir -p "$ROOT"

finish() {
  ln -sfn "lammps-$KEY" "$ROOT/lammps-current"
  echo "$CACHE"
}

if [[ -f "$STAMP" ]]; then finish; exit 0; fi

# One builder per cache directory; a second caller waits, then sees the stamp.
exec 9>"$ROOT/lammps-$KEY.lock"
flock 9
if [[ -f "$STAMP" ]]; then finish; exit 0; fi

mkdir -p "$CACHE/download" "$CACHE/logs"
log "building LAMMPS $LAMMPS_PKG_VERSION with Kokkos $KOKKOS_VERSION into $CACHE (logs in $CACHE/logs)"

# ---- 3. source package: reuse a download from another cache, else apt-get source ----
ORIG=$(ls "$CACHE"/download/lammps_*.orig.tar.* 2>/dev/null | head -n1 || true)
DSC=$(ls "$CACHE"/download/lammps_*.dsc 2>/dev/null | head -n1 || true)
if [[ -z "$ORIG" || -z "$DSC" ]]; then
  # Another cache (other flags) may hold the same source package: reuse it (verified below).
  for other in "$ROOT"/lammps-*/download; do
    if [[ "$other" != "$CACHE/download" ]] && ls "$other"/lammps_*.dsc >/dev/null 2>&1; then
      cp "$other"/lammps_* "$CACHE/download/" && break
    fi
  done
  ORIG=$(ls "$CACHE"/download/lammps_*.orig.tar.* 2>/dev/null | head -n1 || true)
  DSC=$(ls "$CACHE"/download/lammps_*.dsc 2>/dev/null | head -n1 || true)
fi
have_deb_src() {
  grep -rqsE '^\s*deb-src\s|^\s*Types:.*deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/
}
if [[ -z "$ORIG" || -z "$DSC" ]]; then
  if ! have_deb_src; then
    if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
      # deb822: copy the first stanza as deb-src, suite bookworm only.
      awk 'BEGIN{RS=""; ORS="\n\n"} NR==1{print; exit}' /etc/apt/sources.list.d/debian.sources \
        | sed -e 's/^Types:.*/Types: deb-src/' -e 's/^Suites:.*/Suites: bookworm/' \
        | as_root tee /etc/apt/sources.list.d/uma-deb-src.sources >/dev/null
    elif grep -qsE '^\s*deb\s' /etc/apt/sources.list; then
      grep -E '^\s*deb\s' /etc/apt/sources.list | head -n1 | sed -E 's/^\s*deb\s/deb-src /' \
        | as_root tee /etc/apt/sources.list.d/uma-deb-src.list >/dev/null
    else
      die "no deb-src entry and no Debian apt source to derive one from; add a deb-src line" \
          "for bookworm to /etc/apt/sources.list"
    fi
    log "added a deb-src entry"
    APT_UPDATED=0
  fi
  if [[ $APT_UPDATED -eq 0 ]]; then as_root apt-get update -qq; fi
  log "downloading the lammps=$LAMMPS_PKG_VERSION source package (~80 MB)"
  (cd "$CACHE/download" && apt-get source --download-only "lammps=$LAMMPS_PKG_VERSION") \
    >"$CACHE/logs/download.log" 2>&1 || die "apt-get source failed; see $CACHE/logs/download.log"
  ORIG=$(ls "$CACHE"/download/lammps_*.orig.tar.* | head -n1)
  DSC=$(ls "$CACHE"/download/lammps_*.dsc | head -n1)
fi

# ---- 4. verify the orig tarball against the .dsc's Checksums-Sha256 ----
want=$(awk -v f="$(basename "$ORIG")" '/^Checksums-Sha256:/{s=1;next} /^[^ ]/{s=0} s && $3==f{print $1}' "$DSC")
got=$(sha256sum "$ORIG" | cut -d' ' -f1)
[[ -n "$want" ]] || die "$(basename "$ORIG") is not listed in $(basename "$DSC"); delete $CACHE and rerun"
[[ "$want" == "$got" ]] || die "sha256 of $(basename "$ORIG") is $got, the .dsc says $want; delete $CACHE/download and rerun"
log "orig tarball sha256 verified: $got"

# ---- 5. unpack (the source tree stays: the plugin compiles against its headers) ----
if [[ ! -f "$CACHE/source/src/pair.h" ]]; then
  rm -rf "$CACHE/source" "$CACHE/unpack"
  mkdir -p "$CACHE/unpack"
  tar -xf "$ORIG" -C "$CACHE/unpack"
  top=$(ls "$CACHE/unpack")
  mv "$CACHE/unpack/$top" "$CACHE/source"
  rmdir "$CACHE/unpack"
fi

# ---- 6. configure, build, install ----
# Packaging bug 1: Kokkos::kokkos lists /usr/lib/include, which does not exist.
[[ -d /usr/lib/include ]] || as_root mkdir -p /usr/lib/include
cmake -S "$CACHE/source/cmake" -B "$CACHE/build" "${CMAKE_FLAGS[@]}" \
  -DCMAKE_INSTALL_PREFIX="$CACHE/install" >"$CACHE/logs/configure.log" 2>&1 \
  || die "cmake configure failed; see $CACHE/logs/configure.log"
log "configured; building with -j$JOBS (about 3-5 min on 2 cores)"
cmake --build "$CACHE/build" -j "$JOBS" >"$CACHE/logs/build.log" 2>&1 \
  || die "LAMMPS build failed; see $CACHE/logs/build.log"
cmake --install "$CACHE/build" >"$CACHE/logs/install.log" 2>&1 \
  || die "LAMMPS install failed; see $CACHE/logs/install.log"
[[ -x "$CACHE/install/bin/lmp" ]] || die "no $CACHE/install/bin/lmp after install; see $CACHE/logs/install.log"
"$CACHE/install/bin/lmp" -h >"$CACHE/logs/lmp-help.log" 2>&1 \
  || die "the installed lmp does not start; see $CACHE/logs/lmp-help.log"
grep -q "PLUGIN" "$CACHE/logs/lmp-help.log" || die "the installed lmp lacks the PLUGIN package; see $CACHE/logs/configure.log"

cat >"$CACHE/lammps.env" <<EOF
LAMMPS_SOURCE_DIR=$CACHE/source
LAMMPS_INSTALL_DIR=$CACHE/install
LMP=$CACHE/install/bin/lmp
EOF
printf 'lammps %s\nkokkos %s\nscript %s\nbuilt %s\n' "$LAMMPS_PKG_VERSION" "$KOKKOS_VERSION" \
  "$SCRIPT_VERSION" "$(date -u +%FT%TZ)" >"$STAMP"
log "LAMMPS ready"
finish
