#!/usr/bin/env bash
# On a GPU machine: runs every model that tools/cuda-stage.py staged beside
# this script against its fp32 reference (rtol 1e-4, atol 1e-5), then times
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
while read -r name; do
  [ -n "$name" ] || continue
  dir="$here/$name"
  out="$("$here/tfxrt-run" "$dir/model.so" --inputs "$dir/reference.safetensors" \
    --check "$dir/reference.safetensors" --bench "$bench" 2>&1)"
  rc=$?
  echo "== $name"
  echo "$out"
  median="$(echo "$out" | sed -n 's/^median \([0-9.]*\) ms.*/\1/p')"
  if [ $rc -eq 0 ] && echo "$out" | grep -q " OK$"; then
    pass=$((pass + 1))
    summary+="$(printf '%-22s OK    %s ms' "$name" "${median:--}")"$'\n'
  else
    fail=$((fail + 1))
    summary+="$(printf '%-22s FAIL' "$name")"$'\n'
  fi
done <"$here/models.txt"
echo
echo "model                  check median (host tensors in and out)"
printf '%s' "$summary"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
