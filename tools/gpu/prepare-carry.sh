#!/usr/bin/env bash
# Prepares, on this (Debian, networked) machine, the ignored folders that a `run` call on the GPU machine
# carries (the GPU machine reaches no network). Downloads only from PyPI (pip) and takes Debian package files
# already installed here. Then: run(command="bash tools/gpu/run-on-device.sh core", carry=[".whl", ".carry"]).
#
#   .whl/            fairchem-core 2.24.0 (installed --no-deps: it pins torch~=2.13, the GPU machine has 2.11) and
#                    the packages its inference import chain needs that the GPU image lacks (checked by importing
#                    MLIPPredictUnit/InferenceSettings/AtomicData/execution_backends/triton with wandb stubbed and
#                    warp/nvalchemiops/cutlass blocked); antlr4-python3-runtime 4.9.3 exists only as an sdist on
#                    PyPI, so it is built into a wheel here. setuptools < 81 because torchtnt imports pkg_resources.
#   .carry/fallback/ fairchem-core 2.21.0 (the oldest release with umas_fast_gpu; torch~=2.8), tried if 2.24 fails.
#   .carry/deps/     Debian's nlohmann-json3-dev headers + CMake package, libgtest-dev headers, static libs and CMake
#                    package (GMock parts dropped), laid out as a prefix (-Dnlohmann_json_DIR, -DGTest_DIR), and the
#                    CUTLASS headers of .venv's nvidia-cutlass as cutlass-include.tar.xz.
#   .carry/model/    potentials/uma-s-random-k2.pt with its fp16-exact float32 tensors stored as fp16
#                    (tools/gpu/pack_checkpoint.py; restored bit-exactly on the device): 21.8 MB instead of 43.6 MB.
# The whole tree that travels must stay under 64 MiB (tracked files ~25 MB + these ~30 MB).
#   bash tools/gpu/prepare-carry.sh        everything above
#   bash tools/gpu/prepare-carry.sh deps   .carry/deps only (what a CUDA build of this project needs; used by
#                                          tools/gpu/prepare-nitro-carry.sh)
# .carry/model needs potentials/uma-s-random-k2.pt (the 1.1-shaped test model, no longer tracked; tools/make-test-models
# --keep-pt uma-s-random-k2.uma leaves it there when it (re)builds that .uma); without it that step is skipped.
# The UMA Nitro benchmark needs none of .whl, .carry/fallback, .carry/model: see tools/gpu/prepare-nitro-carry.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=${UMA_VENV:-$ROOT/.venv}/bin/python
grep -qx '/.whl/' .git/info/exclude 2> /dev/null || echo '/.whl/' >> .git/info/exclude
grep -qx '/.carry/' .git/info/exclude 2> /dev/null || echo '/.carry/' >> .git/info/exclude

make_deps() {
  local D=.carry/deps
  mkdir -p $D/include $D/share/cmake $D/lib/x86_64-linux-gnu/cmake
  cp -r /usr/include/nlohmann /usr/include/gtest $D/include/
  cp -r /usr/share/cmake/nlohmann_json $D/share/cmake/
  cp /usr/lib/x86_64-linux-gnu/libgtest.a /usr/lib/x86_64-linux-gnu/libgtest_main.a $D/lib/x86_64-linux-gnu/
  cp -r /usr/lib/x86_64-linux-gnu/cmake/GTest $D/lib/x86_64-linux-gnu/cmake/
  rm -f $D/lib/x86_64-linux-gnu/cmake/GTest/GMock*
  # CUTLASS headers (nvidia-cutlass in .venv, tools/bootstrap-python.sh): 27 MB as files, 1 MB as .tar.xz;
  # tools/gpu/run-on-device.sh unpacks them to .carry/deps/cutlass/include, where CMake looks.
  local cut
  cut=$(ls -d "${UMA_VENV:-$ROOT/.venv}"/lib/python3*/site-packages/cutlass_library/source/include | head -1)
  tar -C "$cut" -cJf $D/cutlass-include.tar.xz cutlass cute
  rm -rf $D/cutlass
}
if [ "${1:-}" = deps ]; then
  make_deps
  echo ".carry/deps: $(du -sb .carry/deps | cut -f1) bytes"
  exit 0
fi

PLAT="--python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
      --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64"
mkdir -p .whl .carry/fallback .carry/model .carry/deps
python3 -m pip download -q --no-deps --only-binary=:all: $PLAT -d .whl \
  fairchem-core==2.24.0 ase==3.29.0 hydra-core==1.3.8 omegaconf==2.3.0 monty==2026.10.21 torchtnt==0.2.4 \
  submitit==1.5.4 backoff==2.2.1 setuptools==80.10.2 platformdirs==4.3.8
ls .whl/antlr4_python3_runtime-4.9.3-*.whl > /dev/null 2>&1 ||
  python3 -m pip wheel -q --no-deps --no-binary=:all: -w .whl antlr4-python3-runtime==4.9.3
python3 -m pip download -q --no-deps --only-binary=:all: $PLAT -d .carry/fallback fairchem-core==2.21.0

make_deps

if [ ! -f .carry/model/uma-s-random-k2.half.pt ]; then
  if [ -f potentials/uma-s-random-k2.pt ]; then
    "$PY" tools/gpu/pack_checkpoint.py pack potentials/uma-s-random-k2.pt .carry/model/uma-s-random-k2.half.pt
  else
    echo "potentials/uma-s-random-k2.pt missing (rm potentials/uma-s-random-k2.uma; tools/make-test-models --keep-pt):" \
         ".carry/model skipped" >&2
  fi
fi
tracked=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
untracked=$( (git ls-files -z --others --exclude-standard | xargs -0 -r du -cb | tail -1 | cut -f1) || echo 0)
carried=$(du -cb .whl .carry | tail -1 | cut -f1)
echo "travels: tracked $tracked + untracked ${untracked:-0} + carried $carried bytes" \
     "= $(( (tracked + ${untracked:-0} + carried) / 1048576 )) MiB (limit 64)"
