#!/usr/bin/env bash
# Builds and runs the coverage-guided fuzzers of the untrusted-input readers (unittest/fuzz: the .uma model
# file with its metadata, the structure JSON) with libFuzzer + ASan + UBSan (clang; Debian's clang-14 and
# libclang-rt-14-dev, installed by tools/install-deps.sh).
#
#   tools/run-fuzzers.sh [--seconds S | --runs N] [--jobs J] [FUZZER ...]
#     --seconds S  run each fuzzer for S seconds (default 30: the short CI run, ctest fuzz_readers)
#     --runs N     run each fuzzer for N executions instead (the long run: --runs 1000000)
#   FUZZER: fuzz_model_file, fuzz_structure_json (default: all that unittest/fuzz builds)
#
# The seed corpus (unittest/fuzz/corpus/<kind>/, a few small files, committed) is copied into
# build-fuzz/corpus-<fuzzer>/, which grows between runs on one machine and is never committed. A crash,
# sanitizer report, escaping non-uma::Error exception, leak or hang (> 10 s per input) fails the run and
# leaves its input in build-fuzz/artifacts/ (reproduce: build-fuzz/<fuzzer> build-fuzz/artifacts/<file>).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
seconds=30
runs=""
fuzzers=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "run-fuzzers.sh: unknown option '$1'; see --help" >&2; exit 2 ;;
    *) fuzzers+=("$1"); shift ;;
  esac
done
command -v clang++ >/dev/null || { echo "run-fuzzers.sh: clang++ not found (tools/install-deps.sh installs clang-14)" >&2; exit 1; }
b="$here/build-fuzz"
cmake -S "$here/unittest/fuzz" -B "$b" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$b.configure.log" 2>&1 ||
  { cat "$b.configure.log"; exit 1; }
cmake --build "$b" -j "${UMA_JOBS:-$(nproc)}"
[ ${#fuzzers[@]} -eq 0 ] && mapfile -t fuzzers < <(cd "$b" && ls fuzz_* 2>/dev/null | grep -v '\.' || true)
mkdir -p "$b/artifacts"
status=0
for f in "${fuzzers[@]}"; do
  kind=${f#fuzz_}; kind=${kind%%_*}            # fuzz_model_file -> model, fuzz_structure_json -> structure
  corpus="$b/corpus-$f"
  mkdir -p "$corpus"
  cp -n "$here/unittest/fuzz/corpus/$kind/"* "$corpus/" 2>/dev/null || true
  limit=(-max_total_time="$seconds")
  [ -n "$runs" ] && limit=(-runs="$runs")
  echo "UMA: $f ${limit[*]} (corpus $(ls "$corpus" | wc -l) files)"
  if ! (cd "$b" && ASAN_OPTIONS=detect_leaks=1 "./$f" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$b/artifacts/$f-" "$corpus" > "$b/$f.log" 2>&1); then
    echo "UMA: $f FAILED; the end of its log ($b/$f.log):"; tail -40 "$b/$f.log"; status=1
  fi
  grep -E "^stat::number_of_executed_units|^stat::new_units_added|^Done" "$b/$f.log" | sed "s/^/UMA:   /" || true
done
exit $status
