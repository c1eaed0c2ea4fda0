#!/usr/bin/env bash
# Quantization against float, in one run: artifact size, prefill latency
# (one [1, 256] forward pass) and greedy decode speed of the same model
# compiled as f32, w8, w8a8 (int8 activations too), w4-g128 and
# w4-g128-gptq, each as a
# ratio to f32 measured in this run; with a model that has a held-out set
# (gpt2-pydoc), also its held-out perplexity and top-1 agreement.
#
# usage: bench/quantize/run.sh [MODEL]   (default ../shared/models/gpt2-pydoc,
#        else the project's gpt2-demo); THREADS=N (default 1)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
THREADS=${THREADS:-1}
MODEL=${1:-}
if [ -z "$MODEL" ]; then
  if [ -d ../shared/models/gpt2-pydoc ]; then MODEL=../shared/models/gpt2-pydoc
  else MODEL=$BUILD/models/gpt2-demo; fi
fi
bin=$BUILD/bin
inputs=test/Passes/Inputs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
seq=$(/usr/bin/python3 -c "import json,sys; c=json.load(open(sys.argv[1])); print(min(256, c.get('n_positions', c.get('max_position_embeddings', 256))))" "$MODEL/config.json")
heldout=$MODEL/heldout-eval.safetensors
calibration=()
if [ -f "$heldout" ]; then
  /usr/bin/python3 $inputs/take_rows.py "$heldout" 0:8 "$tmp/cal.safetensors"
  calibration=(--calibration "$tmp/cal.safetensors")
fi
/usr/bin/python3 - "$tmp/in.safetensors" "$seq" <<'PY'
import sys, numpy as np
sys.path.insert(0, "test/Codegen/CPU/Inputs")
import run_artifact
ids = (np.arange(int(sys.argv[2]), dtype=np.int64) * 7 % 200).reshape(1, -1)
run_artifact.write_safetensors(sys.argv[1], {"input.input_ids": ids, "input.attention_mask": np.ones_like(ids)})
PY
echo "1 2 3 4 5 6 7 8" > "$tmp/prompt.txt"

schemes=(f32 w8 w8a8 w4-g128)
[ -f "$heldout" ] && schemes+=(w4-g128-gptq)
printf "%-14s %9s %7s %11s %7s %10s %7s %10s %7s\n" scheme "weights" ratio "prefill ms" speedup "decode t/s" speedup perplexity top1
for s in "${schemes[@]}"; do
  q=(); [ "$s" != f32 ] && q=(--quantize="$s")
  extra=(); [[ "$s" == *gptq ]] && extra=("${calibration[@]}")
  shape=(--input-shape input_ids=1x$seq --input-shape attention_mask=1x$seq)
  $bin/tfx-compile "$MODEL" "${shape[@]}" --target cpu --emit=so --weights external \
    -o "$tmp/$s" "${q[@]}" "${extra[@]}" 2> "$tmp/$s.log"
  # The decoder's steps import at other shapes than the calibration set:
  # GPTQ's decode speed is that of its format (w4-g128), so that is timed.
  dq=("${q[@]}"); [[ "$s" == *gptq ]] && dq=(--quantize="${s%-gptq}")
  $bin/tfx-compile "$MODEL" --decoder --target cpu --emit=so -o "$tmp/dec-$s" \
    "${dq[@]}" 2>> "$tmp/$s.log"
  bytes=$(stat -c %s "$tmp/$s.weights")
  prefill=$($bin/tfx-run "$tmp/$s.so" --backend cpu --threads "$THREADS" --bench 10 \
    --inputs "$tmp/in.safetensors" | sed -n 's/^median \([0-9.]*\) ms.*/\1/p')
  decode=$($bin/tfx-run "$tmp/dec-$s.so" --generate --prompt-ids "$tmp/prompt.txt" \
    --max-new-tokens 128 --threads "$THREADS" 2>&1 | sed -n 's/.*then \([0-9.]*\) tokens\/s.*/\1/p')
  ppl="-"; top1="-"
  if [ -f "$heldout" ]; then
    line=$(/usr/bin/python3 $inputs/lm_heldout.py "$tmp/$s.so" "$heldout" --dense "$tmp/f32.so" --rows 8:40)
    ppl=$(echo "$line" | sed -n 's/perplexity \([0-9.]*\) over.*/\1/p')
    top1=$(echo "$line" | sed -n 's/.*agreement \([0-9.]*%\).*/\1/p')
  fi
  if [ "$s" = f32 ]; then b0=$bytes; p0=$prefill; d0=$decode; fi
  /usr/bin/awk -v s="$s" -v b="$bytes" -v b0="$b0" -v p="$prefill" -v p0="$p0" \
    -v d="$decode" -v d0="$d0" -v ppl="$ppl" -v t="$top1" 'BEGIN {
    printf "%-14s %7.2fMB %6.3fx %11.2f %6.2fx %10.0f %6.2fx %10s %7s\n",
      s, b / 1e6, b / b0, p, p0 / p, d, d / d0, ppl, t }'
done
echo "(weights: the artifact's weight blob; prefill: median of 10 [1, $seq] forward passes;"
echo " decode: greedy tokens/s after an 8-token prompt, 128 new tokens; $THREADS thread(s);"
echo " perplexity and top-1 agreement with f32 on held-out rows 8..39)"
