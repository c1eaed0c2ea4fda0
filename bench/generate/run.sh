#!/usr/bin/env bash
# Generation on the CPU, peers measured in the same run:
#  - speculative decoding (drafts: the model's first 1 and 2 layers, 2 and 4
#    draft tokens) against plain decoding: acceptance rate and speedup;
#  - continuous batching (batches of 4 and 8) against running the same
#    requests one by one: throughput and per-request latency.
# usage: bench/generate/run.sh [MODEL]   (default ../shared/models/gpt2-pydoc,
#        else build/models/gpt2-demo); BUILD=build THREADS=1 REQUESTS=32
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
THREADS=${THREADS:-1}
REQUESTS=${REQUESTS:-32}
MODEL=${1:-}
if [ -z "$MODEL" ]; then
  if [ -d ../shared/models/gpt2-pydoc ]; then MODEL=../shared/models/gpt2-pydoc
  else MODEL=$BUILD/models/gpt2-demo; fi
fi
bin=$BUILD/bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== compiling $MODEL (decode batches 1,2,4,8; verify 5 tokens) and drafts"
$bin/tfx-compile "$MODEL" --decoder --decode-batch 1,2,4,8 --verify-tokens 5 \
  --target cpu --emit=so -o "$tmp/model"
for n in 1 2; do
  $bin/tfx-compile "$MODEL" --decoder --keep-layers $n --target cpu --emit=so \
    -o "$tmp/draft$n"
done
# The same model with int4 weights (LM head too) as a draft: cheap, and it
# agrees with the target on most tokens.
$bin/tfx-compile "$MODEL" --decoder --target cpu --emit=so -o "$tmp/draft-w4" \
  --passes="tfx-quantize-weights{bits=4 group-size=128 targets=ffn,attention,other}" 2>/dev/null
heldout=()
[ -f "$MODEL/heldout-eval.safetensors" ] && heldout=(--from-heldout)
/usr/bin/python3 test/models/greedy_reference.py "$MODEL" --make-prompts 4 \
  --length 16 "${heldout[@]}" --prompts "$tmp/prompts.txt"

echo "== speculative decoding, 4 prompts x 64 tokens, greedy, $THREADS thread(s)"
for n in 1 2; do
  for k in 2 4; do
    echo "-- draft: first $n layer(s), $k draft tokens"
    $bin/tfx-run "$tmp/model.so" --generate --prompt-ids "$tmp/prompts.txt" \
      --draft "$tmp/draft$n.so" --draft-tokens $k --threads "$THREADS" --quiet
  done
done

for k in 3 4; do
  echo "-- draft: the model with int4 weights, $k draft tokens"
  $bin/tfx-run "$tmp/model.so" --generate --prompt-ids "$tmp/prompts.txt" \
    --draft "$tmp/draft-w4.so" --draft-tokens $k --threads "$THREADS" --quiet
done

for batch in 4 8; do
  echo "== continuous batching, $REQUESTS requests, batch $batch, $THREADS thread(s)"
  $bin/tfx-run "$tmp/model.so" --serve-bench "$REQUESTS" --max-batch $batch \
    --prompt-ids "$tmp/prompts.txt" --threads "$THREADS"
done
