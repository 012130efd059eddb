#!/usr/bin/env bash
# Installs the Debian packages the project builds with (idempotent; needs root or sudo).
set -euo pipefail
pkgs=(g++ cmake ninja-build python3 python3-venv libgtest-dev nlohmann-json3-dev
      libopenmpi-dev openmpi-bin libtrilinos-kokkos-dev libyaml-cpp-dev
      libgmock-dev libyaml-dev    # LAMMPS's force-style harness (unittest/lammps-harness)
      clang-14 libclang-rt-14-dev)  # the last two: libFuzzer and the sanitizers (tools/run-fuzzers.sh)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "UMA: Debian packages present"; exit 0
fi
echo "UMA: installing ${missing[*]}"
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update -q
$sudo_cmd apt-get install -y -q "${missing[@]}"
