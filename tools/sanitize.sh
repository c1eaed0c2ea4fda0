#!/usr/bin/env bash
# The sanitizer job: builds the runtime and the frontends with AddressSanitizer
# and UndefinedBehaviorSanitizer (build-asan/) and runs the unit tests (readers,
# interpreter, runtime) and the importers on good and broken models.
# Any sanitizer report fails the job.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
# allow_user_poisoning=0: LLVM headers poison BumpPtrAllocator slabs in our
# instrumented code that the uninstrumented libMLIR then reads (false reports).
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allow_user_poisoning=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
cmake -G Ninja -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTFX_ENABLE_SANITIZERS=ON -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit >/dev/null
ninja -C build-asan tfx-unittests tfx-compile tfx-test-models
bin=build-asan/bin
$bin/tfx-unittests --gtest_brief=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
models=build-asan/models
for m in "$models"/*-test; do
  $bin/tfx-compile "$m" --emit=mlir -o "$tmp/m.mlir"
done
# Generation steps (tfx-kv-cache) of every decoder family.
for m in gpt2-test llama-test qwen2-test mistral-test; do
  $bin/tfx-compile "$models/$m" --decoder --decode-batch 1,2 --verify-tokens 3 \
    --emit=mlir -o "$tmp/m.mlir"
done
# Quantization (GPTQ's Hessian and Cholesky math, int4 blobs).
$bin/tfx-compile "$models/gpt2-test" --input-shape input_ids=3x16 \
  --input-shape attention_mask=3x16 --quantize=w4-g32-gptq \
  --calibration "$models/gpt2-test/reference.safetensors" --emit=mlir -o "$tmp/m.mlir" 2>/dev/null
# Pruning into sparse storage (Wanda statistics, CSR and 2:4 packing, the
# interpreter's sparse kernels) and W8A8 (the activation rounding).
for passes in "tfx-prune-weights{sparsity=0.6 criterion=wanda calibration=$models/gpt2-test/reference.safetensors}" \
    "tfx-prune-weights{pattern=2:4 calibration=$models/gpt2-test/reference.safetensors}"; do
  $bin/tfx-compile "$models/gpt2-test" --input-shape input_ids=3x16 \
    --input-shape attention_mask=3x16 --passes="$passes" --emit=mlir -o "$tmp/m.mlir" 2>/dev/null
done
$bin/tfx-compile "$models/gpt2-test" --input-shape input_ids=3x16 \
  --input-shape attention_mask=3x16 --quantize=w8a8 \
  --calibration "$models/gpt2-test/reference.safetensors" --emit=mlir -o "$tmp/m.mlir" 2>/dev/null
# Automatic compression: every scheme's candidate weights (SVD, GPTQ of
# low-rank factors, 2:4 selection), the search, its plan file and HTML page,
# and the replay of the plan.
$bin/tfx-compile "$models/gpt2-test" --input-shape input_ids=3x16 \
  --input-shape attention_mask=3x16 --auto-compress --max-error 0.05 \
  --calibration "$models/gpt2-test/reference.safetensors" --report "$tmp/plan.html" \
  --emit=mlir -o "$tmp/auto.mlir" 2>/dev/null
$bin/tfx-compile "$models/gpt2-test" --input-shape input_ids=3x16 \
  --input-shape attention_mask=3x16 --plan "$tmp/auto.plan.json" --emit=mlir \
  -o "$tmp/replay.mlir" 2>/dev/null
cmp "$tmp/auto.mlir" "$tmp/replay.mlir"
if [ -d ../shared/models ]; then
  for onnx in ../shared/models/*/model.*.onnx; do
    $bin/tfx-compile "$onnx" --emit=mlir -o "$tmp/m.mlir"
  done
fi
# Broken inputs must fail cleanly (exit 1), not crash (a sanitizer abort).
head -c 3000 "$models/gpt2-test/model.safetensors" > "$tmp/trunc.safetensors"
mkdir -p "$tmp/trunc" && cp "$models/gpt2-test/config.json" "$tmp/trunc/" &&
  cp "$tmp/trunc.safetensors" "$tmp/trunc/model.safetensors"
printf 'not an onnx model' > "$tmp/bad.onnx"
for bad in "$tmp/trunc" "$tmp/bad.onnx"; do
  set +e
  $bin/tfx-compile "$bad" --emit=mlir -o "$tmp/out.mlir" 2>/dev/null
  rc=$?
  set -e
  if [ "$rc" -ne 1 ]; then
    echo "sanitize: tfx-compile $bad exited with $rc (expected 1)"
    exit 1
  fi
done
echo "sanitize: ASan+UBSan job passed"
