#!/usr/bin/env bash
# The fuzz job: builds the libFuzzer targets with clang-22 (ASan+UBSan+
# coverage, assertions on) in build-fuzz/, makes the seed corpora, and runs
# each target for a bounded time, one after the other. Any finding (crash,
# sanitizer report, leak, timeout, out-of-memory) fails the job; its input is
# left in build-fuzz/fuzz/findings/<target>/.
#
# usage: tools/fuzz.sh [SECONDS-PER-TARGET (default 60)] [TARGET...]
# Targets: onnx safetensors hf_config artifact tokenizer (default: all).
# The corpus each run grows is kept in build-fuzz/fuzz/corpus/<target>/ and
# seeds the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(onnx safetensors hf_config artifact tokenizer)
build=${FUZZ_BUILD_DIR:-build-fuzz}
work="$build/fuzz"
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DTFX_ENABLE_FUZZERS=ON -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit >/dev/null
artifacts=()
for v in ok bad_magic bad_abi needs_amx unknown_feature external no_symbol small_symbol; do
  artifacts+=("tfxrt-test-$v")
done
ninja -C "$build" tfx-fuzzers tfx-test-models "${artifacts[@]}"

# Seeds: the small ones kept in the repository, the regression inputs, and
# those made here from the test models and artifacts.
seeds="$work/seeds"
rm -rf "$seeds"
shared=""
[ -d ../shared/models ] && shared="--shared ../shared/models"
/usr/bin/python3 test/fuzz/make_seeds.py "$seeds" --models "$build/models" $shared \
  --artifacts "$build/test/Runtime/artifacts"

# allow_user_poisoning=0: as in tools/sanitize.sh (LLVM's allocator
# poisoning read by the uninstrumented libMLIR).
export ASAN_OPTIONS=allow_user_poisoning=0:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
failed=()
for target in "${targets[@]}"; do
  binary="$build/bin/tfx-fuzz-${target//_/-}"
  corpus="$work/corpus/$target"
  findings="$work/findings/$target"
  mkdir -p "$corpus" "$findings"
  dirs=("$corpus")
  for d in "$seeds/$target" "test/fuzz/corpus/$target" "test/fuzz/regressions/$target"; do
    [ -d "$d" ] && dirs+=("$d")
  done
  echo "fuzz: $target for ${seconds}s"
  # -malloc_limit_mb: a single allocation past 1 GiB from an input of a few
  # hundred KiB is a finding (sizes must be validated before allocating).
  start=$(date +%s)
  set +e
  nice -n 10 "$binary" -max_total_time="$seconds" -timeout=30 \
    -rss_limit_mb=3072 -malloc_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$findings/" "${dirs[@]}" > "$work/$target.log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$target.log" | tail -1)
  echo "fuzz: $target: ${runs:-?} runs in $(( $(date +%s) - start ))s, exit $rc"
  if [ $rc -ne 0 ]; then
    echo "fuzz: $target: FINDING (exit $rc); log $work/$target.log, input in $findings/"
    grep -E "ERROR|SUMMARY|finding|Test unit written" "$work/$target.log" | head -5 || true
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: findings in: ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no findings"
