#!/usr/bin/env bash
# build-lammps.sh — fetch, verify, configure, build and install a LAMMPS from Debian's `lammps` source
# package into a keyed cache outside the work tree. Two versions:
#   29Sep2021 (default; bookworm's 20220106.git7586adbb6a+ds1-2): KOKKOS (external Debian Kokkos 3.4.01,
#             Serial), PLUGIN, MPI, OpenMP. Everything, uma/kk included, builds against it.
#   4Feb2025  (trixie's 20250204+dfsg.1-2): PLUGIN, MPI, OpenMP only (no KOKKOS: the Kokkos it needs is
#             not packaged), for the plain pair_style uma.
# The plugin compiles against the cached source tree (<src>/src, and <src>/src/KOKKOS for uma/kk):
# installed LAMMPS headers are only the public library API.
#
# Usage: tools/build-lammps.sh [--version 29Sep2021|4Feb2025] [-j N]
#   UMA_CACHE  cache root (default $HOME/.cache/uma)
# Last line of stdout: the cache directory. Also writes <cache>/lammps.env and the symlink
# $UMA_CACHE/lammps-current (29Sep2021) or $UMA_CACHE/lammps-4Feb2025-current -> <cache>. A complete
# cache (stamp file) returns in seconds. Recipe and the two libtrilinos-kokkos-dev packaging
# workarounds: docs/cpu-stack.md.
set -euo pipefail

SCRIPT_VERSION=1
KOKKOS_PKG=libtrilinos-kokkos-dev

JOBS=2
LAMMPS_VERSION=29Sep2021
while [[ $# -gt 0 ]]; do
  case "$1" in
    -j) JOBS="$2"; shift 2 ;;
    -j*) JOBS="${1#-j}"; shift ;;
    --version) LAMMPS_VERSION="${2:-}"; shift 2 ;;
    --version=*) LAMMPS_VERSION="${1#--version=}"; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "build-lammps.sh: unknown argument '$1' (expected --version V or -j N)" >&2; exit 2 ;;
  esac
done

case "$LAMMPS_VERSION" in
  29Sep2021)
    LAMMPS_PKG_VERSION="20220106.git7586adbb6a+ds1-2"
    SUITE=bookworm
    WITH_KOKKOS=1
    CURRENT_LINK=lammps-current ;;
  4Feb2025)
    LAMMPS_PKG_VERSION="20250204+dfsg.1-2"
    SUITE=trixie
    WITH_KOKKOS=0
    # sha256 of lammps_20250204+dfsg.1.orig.tar.xz as its .dsc (Checksums-Sha256) lists it: checked
    # in addition to the signed source index, so a changed upload is noticed rather than built.
    ORIG_SHA256=3671165bd52fad36734e0a9136c5bc5ecb225e03988f8c89aa13366a8b53b1c7
    CURRENT_LINK=lammps-4Feb2025-current ;;
  *) echo "build-lammps.sh: unknown LAMMPS version '$LAMMPS_VERSION' (expected 29Sep2021 or 4Feb2025)" >&2
     exit 2 ;;
esac
APT_PACKAGES=(build-essential cmake ninja-build libopenmpi-dev openmpi-bin xz-utils ca-certificates
              dpkg-dev)
[[ $WITH_KOKKOS -eq 1 ]] && APT_PACKAGES+=("$KOKKOS_PKG")

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
# (The 29Sep2021 key is what it was before the version argument existed: old caches stay valid.)
if [[ $WITH_KOKKOS -eq 1 ]]; then
  KOKKOS_VERSION=$(dpkg-query -W -f='${Version}' "$KOKKOS_PKG")
  CMAKE_FLAGS=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=on -DBUILD_MPI=on -DBUILD_OMP=on
    -DPKG_KOKKOS=on -DEXTERNAL_KOKKOS=yes -DPKG_PLUGIN=on -DBUILD_TOOLS=off -DWITH_JPEG=no
    -DWITH_PNG=no -DWITH_FFMPEG=no -DWITH_GZIP=no -DCMAKE_CXX_FLAGS=-I/usr/include/trilinos
    '-DCMAKE_INSTALL_RPATH=$ORIGIN/../lib')    # lmp finds its liblammps.so without LD_LIBRARY_PATH
else
  KOKKOS_VERSION=none
  # Only what the plain style and its tests need: core LAMMPS (atom_style charge, fix nve/nvt/npt/
  # setforce/deposit, min cg, compute stress/atom are all core), PLUGIN, MPI, OpenMP. Nothing is
  # downloaded at configure time (DOWNLOAD_POTENTIALS off; no optional libraries).
  CMAKE_FLAGS=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=on -DBUILD_MPI=on -DBUILD_OMP=on
    -DPKG_PLUGIN=on -DBUILD_TOOLS=off -DBUILD_LAMMPS_GUI=off -DDOWNLOAD_POTENTIALS=off
    -DWITH_JPEG=no -DWITH_PNG=no -DWITH_FFMPEG=no -DWITH_GZIP=no -DWITH_CURL=no
    '-DCMAKE_INSTALL_RPATH=$ORIGIN/../lib')
fi
KEY=$(printf '%s\n' "$LAMMPS_PKG_VERSION" "$KOKKOS_VERSION" "${CMAKE_FLAGS[*]}" "$SCRIPT_VERSION" \
      | sha256sum | cut -c1-12)
ROOT="${UMA_CACHE:-$HOME/.cache/uma}"
CACHE="$ROOT/lammps-$KEY"
STAMP="$CACHE/.complete"
mkdir -p "$ROOT"

finish() {
  ln -sfn "lammps-$KEY" "$ROOT/$CURRENT_LINK"
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
UPSTREAM_VERSION="${LAMMPS_PKG_VERSION%-*}"
DSC_NAME="lammps_${LAMMPS_PKG_VERSION}.dsc"
ORIG_GLOB="lammps_${UPSTREAM_VERSION}.orig.tar.*"
find_download() {
  ORIG=$(ls "$CACHE"/download/$ORIG_GLOB 2>/dev/null | head -n1 || true)
  DSC=$(ls "$CACHE/download/$DSC_NAME" 2>/dev/null || true)
}
find_download
if [[ -z "$ORIG" || -z "$DSC" ]]; then
  # Another cache (other flags) may hold the same source package: reuse it (verified below).
  for other in "$ROOT"/lammps-*/download; do
    if [[ "$other" != "$CACHE/download" && -f "$other/$DSC_NAME" ]]; then
      cp "$other/$DSC_NAME" "$other"/$ORIG_GLOB "$CACHE/download/" && break
    fi
  done
  find_download
fi
have_deb_src() {
  grep -rqsE '^\s*deb-src\s|^\s*Types:.*deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/
}
if [[ -z "$ORIG" || -z "$DSC" ]] && [[ $SUITE == trixie ]]; then
  # A bookworm machine: trixie's source index goes into a private apt state under the cache root,
  # so the system's apt sources stay as they are (apt checks the index's signature and the
  # downloaded files' sizes and hashes against it).
  APT_DIR="$ROOT/apt-$SUITE"
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $SUITE main" \
    >"$APT_DIR/sources.list"
  APT_OPTS=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR/cache")
  log "downloading the lammps=$LAMMPS_PKG_VERSION source package ($SUITE, ~130 MB)"
  apt-get "${APT_OPTS[@]}" update >"$CACHE/logs/download.log" 2>&1 \
    || die "apt-get update of the $SUITE source index failed; see $CACHE/logs/download.log"
  (cd "$CACHE/download" && apt-get "${APT_OPTS[@]}" source --download-only "lammps=$LAMMPS_PKG_VERSION") \
    >>"$CACHE/logs/download.log" 2>&1 || true
  find_download
  [[ -n "$ORIG" ]] || die "apt-get source failed; see $CACHE/logs/download.log"
  if [[ -z "$DSC" ]]; then
    # Some mirrors and proxies do not serve the .dsc; its Checksums-Sha256 are also in the signed
    # source index, from which apt-cache prints the package's stanza.
    apt-cache "${APT_OPTS[@]}" showsrc lammps \
      | awk -v v="$LAMMPS_PKG_VERSION" 'BEGIN{RS=""} index($0, "\nVersion: " v "\n") {print; exit}' \
      >"$CACHE/download/$DSC_NAME.index"
    grep -q '^Checksums-Sha256:' "$CACHE/download/$DSC_NAME.index" \
      || die "no .dsc and no Checksums-Sha256 for lammps=$LAMMPS_PKG_VERSION in the $SUITE index"
    mv "$CACHE/download/$DSC_NAME.index" "$CACHE/download/$DSC_NAME"
    log "no .dsc from the mirror; using the Checksums-Sha256 of the signed $SUITE source index"
    find_download
  fi
fi
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
if [[ -n "${ORIG_SHA256:-}" && "$got" != "$ORIG_SHA256" ]]; then
  die "sha256 of $(basename "$ORIG") is $got, this script expects $ORIG_SHA256; delete $CACHE/download and rerun"
fi
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
if [[ $WITH_KOKKOS -eq 1 && ! -d /usr/lib/include ]]; then as_root mkdir -p /usr/lib/include; fi
cmake -S "$CACHE/source/cmake" -B "$CACHE/build" "${CMAKE_FLAGS[@]}" \
  -DCMAKE_INSTALL_PREFIX="$CACHE/install" >"$CACHE/logs/configure.log" 2>&1 \
  || die "cmake configure failed; see $CACHE/logs/configure.log"
log "configured; building with -j$JOBS (about 3-5 min on 2 cores for 29Sep2021)"
cmake --build "$CACHE/build" -j "$JOBS" >"$CACHE/logs/build.log" 2>&1 \
  || die "LAMMPS build failed; see $CACHE/logs/build.log"
cmake --install "$CACHE/build" >"$CACHE/logs/install.log" 2>&1 \
  || die "LAMMPS install failed; see $CACHE/logs/install.log"
[[ -x "$CACHE/install/bin/lmp" ]] || die "no $CACHE/install/bin/lmp after install; see $CACHE/logs/install.log"
"$CACHE/install/bin/lmp" -h >"$CACHE/logs/lmp-help.log" 2>&1 \
  || die "the installed lmp does not start; see $CACHE/logs/lmp-help.log"
grep -q "PLUGIN" "$CACHE/logs/lmp-help.log" || die "the installed lmp lacks the PLUGIN package; see $CACHE/logs/configure.log"

cat >"$CACHE/lammps.env" <<EOF
LAMMPS_VERSION=$LAMMPS_VERSION
LAMMPS_SOURCE_DIR=$CACHE/source
LAMMPS_INSTALL_DIR=$CACHE/install
LMP=$CACHE/install/bin/lmp
EOF
printf 'lammps %s\nkokkos %s\nscript %s\nbuilt %s\n' "$LAMMPS_PKG_VERSION" "$KOKKOS_VERSION" \
  "$SCRIPT_VERSION" "$(date -u +%FT%TZ)" >"$STAMP"
log "LAMMPS ready"
finish
