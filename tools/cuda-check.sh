#!/usr/bin/env bash
# On a GPU machine: runs every model that tools/cuda-stage.py staged beside
# this script against its fp32 reference (rtol 1e-4, atol 1e-5; compiled
# with f16/bf16 matmuls: the relative L2 error models.txt gives), then times
# each one (--bench N, default 20; 0 skips timing). Prints one line per
# output and a summary; exits non-zero if any check failed.
#   usage: cuda-check.sh [BENCH_RUNS]
set -u
here="$(cd "$(dirname "$0")" && pwd)"
bench="${1:-20}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null ||
  echo "nvidia-smi: not available"
pass=0
fail=0
summary=""
while read -r name tolerance; do
  [ -n "$name" ] || continue
  dir="$here/$name"
  # shellcheck disable=SC2086 # the tolerance options split into words
  out="$("$here/tfxrt-run" "$dir/model.so" --inputs "$dir/reference.safetensors" \
    --check "$dir/reference.safetensors" $tolerance --bench "$bench" 2>&1)"
  rc=$?
  echo "== $name"
  echo "$out"
  median="$(echo "$out" | sed -n 's/^median \([0-9.]*\) ms.*/\1/p')"
  if [ $rc -eq 0 ] && echo "$out" | grep -q " OK$"; then
    pass=$((pass + 1))
    device="$(echo "$out" | sed -n 's/^device \([0-9.]*\) ms.*/\1/p')"
    summary+="$(printf '%-26s OK    %-10s %s' "$name" "${median:--}" "${device:--}")"$'\n'
  else
    fail=$((fail + 1))
    summary+="$(printf '%-26s FAIL' "$name")"$'\n'
  fi
done <"$here/models.txt"
echo
echo "model                      check call ms    device ms (median; call: host tensors in and out)"
printf '%s' "$summary"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
