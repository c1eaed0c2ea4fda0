#!/usr/bin/env bash
# Installs dependencies, builds tfx, makes a GPT-2-shaped model with random
# weights, compiles it to the tfx dialect, runs it and checks it against an
# independent PyTorch implementation.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install-deps.sh
./tools/build.sh
model=build/models/gpt2-demo
/usr/bin/python3 test/models/make_models.py build/models --only gpt2-demo
echo "== tfx-compile $model --emit=mlir (first lines)"
build/bin/tfx-compile "$model" --emit=mlir -o build/gpt2-demo.mlir
head -n 12 build/gpt2-demo.mlir
echo "== tfx-run $model"
build/bin/tfx-run "$model" --inputs "$model/reference.safetensors" --print \
  --check "$model/reference.safetensors" --rtol 1e-4
