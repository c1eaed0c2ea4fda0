#!/usr/bin/env bash
# Installs dependencies, builds tfx, makes a GPT-2-shaped model with random
# weights (Hugging Face layout), shows its tfx IR, runs it on the reference
# interpreter and as compiled native code, and checks both against an
# independent PyTorch implementation.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install-deps.sh
./tools/build.sh
model=build/models/gpt2-demo
/usr/bin/python3 test/models/make_models.py build/models --only gpt2-demo
echo "== tfx-compile $model --emit=mlir (first lines of build/gpt2-demo.mlir)"
build/bin/tfx-compile "$model" --emit=mlir -o build/gpt2-demo.mlir
grep -v "tfx.weight" build/gpt2-demo.mlir | head -n 16
echo "== reference interpreter: outputs and time"
build/bin/tfx-run "$model" --inputs "$model/reference.safetensors"
build/bin/tfx-run "$model" --inputs "$model/reference.safetensors" \
  --check "$model/reference.safetensors" --rtol 1e-4
echo "== compiled for this CPU (tfx-compile --target cpu in process), 2 threads"
build/bin/tfx-run "$model" --backend cpu --threads 2 --bench 10 \
  --inputs "$model/reference.safetensors" --check "$model/reference.safetensors" --rtol 1e-4
