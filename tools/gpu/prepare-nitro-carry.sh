#!/usr/bin/env bash
# Prepares, on this (networked) machine, what the GPU machine needs to run fairchem's UMA Nitro next to our engine
# (benchmarks/nitro_vs_ours.py through `run-on-device.sh nitro`), split so that every `run` call stays under the
# 64 MiB that one call may carry (tracked files + untracked-not-ignored files + the carried folders).
#
#   bash tools/gpu/prepare-nitro-carry.sh            download (PyPI only), repack, split, print the plan
#   bash tools/gpu/prepare-nitro-carry.sh --plan     re-measure the tree and re-split the existing archive only
#   bash tools/gpu/prepare-nitro-carry.sh --with-pt  also put the fairchem twin of the bundled model into the
#                                                    archive (fp16-packed, ~22 MB more: usually one call more);
#                                                    without it the device rebuilds the .pt from the seed (~20 s)
# Environment: NITRO_MARGIN_MIB (default 2) is kept free in every call for tree growth between now and the run.
#
# What goes in (all wheels cp312 / py3 manylinux x86_64 from PyPI, unpacked the way `pip install --target` would;
# nothing is installed here):
#   the inference closure of fairchem-core 2.24.0 that the GPU image lacks (the same list as prepare-carry.sh's
#   .whl: fairchem-core, ase, hydra-core, omegaconf, antlr4-python3-runtime (sdist only: built into a wheel here),
#   monty, torchtnt, submitit, backoff, platformdirs, setuptools < 81 for torchtnt's pkg_resources) and Nitro's
#   extras: nvidia-cutlass-dsl 4.7.1 + -libs-base (cp312) + -libs-core + -libs-cu13 (its _cutlass_ir.cu13*.so and
#   cu13/lib/libcute_dsl_runtime.so are both needed). Their other Requires-Dist (numpy, typing-extensions,
#   cuda-python (the image has cuda-bindings, which is what `import cuda.bindings.driver` needs), protobuf,
#   nvidia-cuda-nvdisasm (only for SASS dumps; nvdisasm is in the image's CUDA toolkit)) are checked against the
#   GPU image's package list (/work/.library/device/KINDS.md) and printed.
# Stripped: the wheels' .data/scripts, cutlass's top-level `iket` profiler package (imported by nothing on the
# import path; cute.experimental imports its own dialect inside try/except), the aarch64 runtime stub, ase/test,
# setuptools/tests. The rest (238 MiB; the two cutlass .so are 224 MB and already stripped) is one tar, compressed
# with xz's x86 branch filter + LZMA2 preset 9e with a 192 MiB dictionary, one thread: 50.8 MiB (53.3 MB) instead
# of the 97 MB of wheels (~4 min here, once; redone only when the wheels or these settings change), then cut into
# parts that leave the same room free in every call: .carry-nitro/a/part-a, .carry-nitro/b/part-b, ... each with
# a MANIFEST (sizes and sha256 of the parts and of the whole). Downloads and the unpacked tree live in
# .carry-nitro-src/ (ignored, never carried). Unpacking on the device: ~3-7 s.
# Also makes .carry/deps (tools/gpu/prepare-carry.sh deps) for the CUDA build of uma-engine-bench.
#
# The `run` calls (printed at the end with the measured sizes; the machine stays warm only ~30 s after a call, so
# make each call right after the previous one returns; /root/nitro-stage survives only while it is warm):
#   run(command="bash tools/gpu/run-on-device.sh stage-nitro-a build-bench", carry=[".carry-nitro/a", ".carry/deps"])
#   run(command="bash tools/gpu/run-on-device.sh nitro", carry=[".carry-nitro/b"])
# (with three parts: "bash tools/gpu/run-on-device.sh stage-nitro-b", carry=[".carry-nitro/b"] in between, and the
# last call carries .carry-nitro/c). Results: $OUT/nitro_vs_ours.md and .json, nitro.log, build.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=${UMA_VENV:-$ROOT/.venv}/bin/python
[ -x "$PY" ] || PY=python3
LIMIT=$((64 * 1048576))
MARGIN=$(( ${NITRO_MARGIN_MIB:-2} * 1048576 ))
SRC=.carry-nitro-src
DST=.carry-nitro
ARCHIVE=$SRC/nitro.tar.xz
PLAN_ONLY=0 WITH_PT=0
for arg in "$@"; do
  case $arg in
    --plan) PLAN_ONLY=1 ;;
    --with-pt) WITH_PT=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done
EXCL=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$EXCL")"
for p in /.carry-nitro/ /.carry-nitro-src/ /.carry/ /.whl/; do
  grep -qxF "$p" "$EXCL" 2>/dev/null || echo "$p" >> "$EXCL"
done
mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }

if [ $PLAN_ONLY = 0 ]; then
  mkdir -p $SRC/wheels
  PLAT="--python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64"
  WHEELS="fairchem-core==2.24.0 ase==3.29.0 hydra-core==1.3.8 omegaconf==2.3.0 monty==2026.10.21 torchtnt==0.2.4
          submitit==1.5.4 backoff==2.2.1 setuptools==80.10.2 platformdirs==4.3.8
          nvidia-cutlass-dsl==4.7.1 nvidia-cutlass-dsl-libs-base==4.7.1 nvidia-cutlass-dsl-libs-core==4.7.1
          nvidia-cutlass-dsl-libs-cu13==4.7.1"
  [ -d .whl ] && cp -n .whl/*.whl $SRC/wheels/ 2>/dev/null || true   # reuse prepare-carry.sh's downloads
  python3 -m pip download -q --no-deps --only-binary=:all: $PLAT -d $SRC/wheels $WHEELS
  ls $SRC/wheels/antlr4_python3_runtime-4.9.3-*.whl > /dev/null 2>&1 ||
    python3 -m pip wheel -q --no-deps --no-binary=:all: -w $SRC/wheels antlr4-python3-runtime==4.9.3
  # exactly the pinned set (an older download of another version would make two of a package)
  "$PY" - "$SRC/wheels" $WHEELS antlr4-python3-runtime==4.9.3 <<'EOF'
import os, re, sys
d, want = sys.argv[1], sys.argv[2:]
norm = lambda s: re.sub(r"[-_.]+", "_", s).lower()
pins = {norm(w.split("==")[0]): w.split("==")[1] for w in want}
for f in sorted(os.listdir(d)):
    name, ver = f.split("-")[0], f.split("-")[1]
    if norm(name) not in pins or pins[norm(name)] != ver:
        os.remove(os.path.join(d, f)); print(f"  (dropped {f}: not in the pinned set)")
missing = set(pins) - {norm(f.split("-")[0]) for f in os.listdir(d)}
if missing: sys.exit(f"missing wheels: {sorted(missing)}")
EOF
  # Requires-Dist of everything carried, against what the archive holds and what the GPU image has
  "$PY" - "$SRC/wheels" <<'EOF'
import os, re, sys, zipfile
d = sys.argv[1]
norm = lambda s: re.sub(r"[-_.]+", "-", s).lower()
have = {norm(f.split("-")[0]) for f in os.listdir(d)}
image = set()
k = "/work/.library/device/KINDS.md"
if os.path.exists(k):
    txt = open(k).read()
    m = re.search(r"Packages: (.*?)\.\s*$", txt, re.M)
    if m:
        image = {norm(x.strip()) for x in m.group(1).split(",")}
# what an image package provides under another distribution name
# known to be absent and not needed (fairchem's inference import chain and Nitro's, as run on the device: the
# import check of run-on-device.sh deps and uma-1p2.md section 5)
lazy = "not imported for inference (lazy / training / data loaders)"
provided = {"cuda-python": "cuda-bindings" in image and "image has cuda-bindings (cuda.bindings.driver)",
            "nvidia-cuda-nvdisasm": "optional: SASS dumps only; nvdisasm is in the image's CUDA toolkit",
            "nvidia-cutlass-dsl-libs-cu12": "not needed: the cu13 libs are carried (the image has CUDA 13)",
            "wandb": "stubbed on the device (imported at module level, never called)",
            "lmdb": lazy, "orjson": lazy, "websockets": lazy, "clusterscope": lazy, "ase-db-backends": lazy,
            "nvalchemi-toolkit-ops": lazy, "ruamel-yaml": lazy + " (monty serialisation)"}
try:
    from packaging.requirements import Requirement
    env = {"python_version": "3.12", "python_full_version": "3.12.3", "sys_platform": "linux",
           "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
           "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}
except ImportError:
    Requirement = None
rows = {}
for f in sorted(os.listdir(d)):
    with zipfile.ZipFile(os.path.join(d, f)) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        for line in z.read(meta).decode().splitlines():
            if not line.startswith("Requires-Dist:") or "extra ==" in line:
                continue
            spec = line.split(":", 1)[1].strip()
            if Requirement is not None:
                r = Requirement(spec)
                if r.marker is not None and not r.marker.evaluate(env):
                    continue  # e.g. python_version < "3.11" on the device's Python 3.12
            req = norm(re.split(r"[ ;<>=!~\[(]", spec)[0])
            rows.setdefault(req, set()).add(f.split("-")[0])
bad = []
print("requirements of the carried wheels (extras and markers false on CPython 3.12 x86_64 Linux skipped):")
for req, by in sorted(rows.items()):
    where = ("carried" if req in have else "GPU image" if req in image else provided.get(req) or "MISSING")
    if where == "MISSING":
        bad.append(req)
    print(f"  {req:32s} {where:60s} <- {', '.join(sorted(by))[:60]}")
if bad:
    print(f"  NOTE: not carried, not in the image list, not known to be unneeded: {bad}")
EOF
  STRIP="./*.data nvidia_cutlass_dsl/dsl_packages/iket nvidia_cutlass_dsl/cu13/lib/stubs ase/test setuptools/tests"
  XZOPTS=${NITRO_XZ_OPTS:-"--x86 --lzma2=preset=9e,dict=192MiB -T1"}  # (override: tests only)
  # what the archive depends on: the wheels, what is stripped, how it is compressed, the model if it goes in
  STAMP=$( (cd $SRC/wheels && sha256sum *.whl; echo "$STRIP $XZOPTS with_pt=$WITH_PT"
            if [ $WITH_PT = 1 ]; then sha256sum "$ROOT/potentials/uma-s-1p2p1-random-k2.uma"; fi) | sha256sum | cut -c1-16)
  if [ -f $ARCHIVE ] && [ "$(cat $SRC/stamp 2>/dev/null)" = "$STAMP" ]; then
    echo "archive up to date: $ARCHIVE ($(stat -c %s $ARCHIVE) bytes)"
  else
    rm -rf $SRC/tree && mkdir -p $SRC/tree/site
    for w in $SRC/wheels/*.whl; do unzip -q -o "$w" -d $SRC/tree/site; done
    ( cd $SRC/tree/site
      rm -rf $STRIP
      find . -name '__pycache__' -prune -exec rm -rf {} + )
    for so in nvidia_cutlass_dsl/dsl_packages/cutlass/_mlir/_mlir_libs/_cutlass_ir.cu13.cpython-312-x86_64-linux-gnu.so \
              nvidia_cutlass_dsl/cu13/lib/libcute_dsl_runtime.so; do
      [ -f "$SRC/tree/site/$so" ] || { echo "missing $so" >&2; exit 1; }
    done
    if [ $WITH_PT = 1 ]; then
      mkdir -p $SRC/tree/pt
      [ -f $SRC/uma-s-1p2p1-random-k2.pt ] ||
        "$PY" tools/gpu/nitro_checkpoint.py --out $SRC/uma-s-1p2p1-random-k2.pt --from auto
      "$PY" tools/gpu/pack_checkpoint.py pack $SRC/uma-s-1p2p1-random-k2.pt $SRC/tree/pt/uma-s-1p2p1-random-k2.half.pt
    fi
    echo "unpacked: $(du -sb $SRC/tree | cut -f1) bytes; compressing (xz x86 + LZMA2 9e, 192 MiB dictionary," \
         "single thread: ~4 min on two busy cores)"
    t0=$SECONDS
    tar -C $SRC/tree --sort=name --owner=0 --group=0 --numeric-owner --mtime=2026-01-01 -cf - . |
      nice xz $XZOPTS -c > $ARCHIVE.tmp
    mv $ARCHIVE.tmp $ARCHIVE
    echo "$STAMP" > $SRC/stamp
    echo "compressed in $((SECONDS - t0)) s: $(stat -c %s $ARCHIVE) bytes"
  fi
  bash tools/gpu/prepare-carry.sh deps
fi
[ -f $ARCHIVE ] || { echo "no $ARCHIVE: run without --plan first" >&2; exit 1; }

# ---- measure what every call carries anyway and cut the archive into parts
tree_bytes=$( (git ls-files -z --cached --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null || true) |
              awk '$2 == "total" { s += $1 } END { print s + 0 }')
tracked=$( (git ls-files -z | xargs -0 -r du -cb 2>/dev/null || true) | awk '$2 == "total" { s += $1 } END { print s + 0 }')
deps=$( [ -d .carry/deps ] && du -sb .carry/deps | cut -f1 || echo 0)
total=$(stat -c %s $ARCHIVE)
cap_first=$((LIMIT - tree_bytes - deps - MARGIN - 8192))
cap_next=$((LIMIT - tree_bytes - MARGIN - 8192))
[ $cap_first -gt 1048576 ] || { echo "the tree ($tree_bytes bytes) leaves no room under 64 MiB" >&2; exit 1; }
# fewest calls; then the same free room in every call (call 1 also carries .carry/deps)
k=1
while [ $((cap_first + (k - 1) * cap_next)) -lt $total ]; do k=$((k + 1)); done
[ $k -le 8 ] || { echo "more than 8 parts: something is wrong" >&2; exit 1; }
per=$(( (total + deps + k - 1) / k ))
rm -rf $DST
sizes=() off=0 i=0
names=(a b c d e f g h)
while [ $off -lt $total ]; do
  if [ $i = 0 ]; then n=$((per - deps)); [ $n -gt $cap_first ] && n=$cap_first; else n=$per; fi
  [ $n -lt 1 ] && n=1
  [ $i = $((k - 1)) ] && n=$((total - off))
  [ $n -gt $((total - off)) ] && n=$((total - off))
  x=${names[$i]}
  mkdir -p $DST/$x
  dd if=$ARCHIVE of=$DST/$x/part-$x bs=1M iflag=skip_bytes,count_bytes skip=$off count=$n status=none
  sizes+=("$n") off=$((off + n)) i=$((i + 1))
done
{
  echo "archive nitro.tar.xz $total $(sha256sum $ARCHIVE | cut -d' ' -f1)"
  for j in $(seq 0 $((i - 1))); do
    x=${names[$j]}
    echo "part $x ${sizes[$j]} $(sha256sum $DST/$x/part-$x | cut -d' ' -f1)"
  done
  echo "with_pt $WITH_PT"
  echo "made $(date -u +%FT%TZ) by tools/gpu/prepare-nitro-carry.sh"
} > $SRC/MANIFEST
for j in $(seq 0 $((i - 1))); do cp $SRC/MANIFEST $DST/${names[$j]}/MANIFEST; done

echo
echo "== plan (limit 64 MiB a call; tracked files $(mib $tracked) MiB, all non-ignored files $(mib $tree_bytes) MiB" \
     "travel every time; margin $(mib $MARGIN) MiB kept free)"
echo "archive $(mib $total) MiB in $i part(s); .carry/deps $(mib $deps) MiB"
for j in $(seq 0 $((i - 1))); do
  x=${names[$j]}
  part=$(du -sb $DST/$x | cut -f1)
  if [ $j = 0 ]; then
    if [ $i = 1 ]; then
      cmd="bash tools/gpu/run-on-device.sh nitro" carry="[\".carry-nitro/a\", \".carry/deps\"]"; extra=$deps
    else
      cmd="bash tools/gpu/run-on-device.sh stage-nitro-a build-bench" carry="[\".carry-nitro/a\", \".carry/deps\"]"
      extra=$deps
    fi
  elif [ $j = $((i - 1)) ]; then
    cmd="bash tools/gpu/run-on-device.sh nitro" carry="[\".carry-nitro/$x\"]" extra=0
  else
    cmd="bash tools/gpu/run-on-device.sh stage-nitro-$x" carry="[\".carry-nitro/$x\"]" extra=0
  fi
  sum=$((tree_bytes + part + extra))
  echo "call $((j + 1)): run(command=\"$cmd\", carry=$carry)"
  echo "        tree $(mib $tree_bytes) + .carry-nitro/$x $(mib $part) + other carried $(mib $extra)" \
       "= $(mib $sum) MiB (limit 64; $(mib $((LIMIT - sum))) MiB free)"
  [ $((sum + MARGIN)) -le $LIMIT ] || { echo "over the limit (with the margin)" >&2; exit 1; }
done
echo "make each call as soon as the previous one returns (the machine stays warm ~30 s); if it went cold, start again"
echo "with call 1. Expected: call 1 = staging (seconds) + the uma-engine-bench build (a few minutes on 16 cores);"
echo "last call = unpack + .pt from the seed + ours (6 runs) + Nitro (3 cases, first calls 14-42 s each) ~5-6 min."
