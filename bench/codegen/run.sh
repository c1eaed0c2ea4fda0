#!/bin/sh
# Times the CPU code generator on this machine: the FMA peak of a core, the
# GEMM kernel on BERT-base's shapes, and a BERT-base-shaped encoder
# (seq 128, batch 1) written as tfx IR with the weights of
# /work/shared/peers/cpu_peer_model.py when its state dict is given.
#
# usage: bench/codegen/run.sh BUILD_DIR WORK_DIR [STATE_DICT.pt]
# The machine is shared: each figure is the minimum of several runs, and
# "cpu" is the process CPU time (with one thread, the run time undisturbed).
set -eu
build=$(cd "$1" && pwd)
work=$2
state=${3:-}
src=$(cd "$(dirname "$0")/../.." && pwd)
inputs=$src/test/Codegen/CPU/Inputs
mkdir -p "$work"
cc -O2 -mavx512f -mfma "$src/bench/codegen/peak_fma.c" -o "$work/peak_fma"
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L "$src/bench/codegen/time_artifact.c" \
  -I"$src/runtime/include" "$build/runtime/libtfxrt.a" -lpthread -ldl \
  -o "$work/time_artifact"
"$work/peak_fma"

for shape in "128 768 3072" "128 3072 768" "128 768 768"; do
  set -- $shape
  dir=$work/gemm_$1_$2_$3
  gflop=$(/usr/bin/python3 "$inputs/make_gemm.py" "$dir" "$1" "$2" "$3")
  "$build/bin/tfx-compile" "$dir/model.mlir" --target cpu --emit=so -o "$dir/m"
  echo "GEMM $1x$2x$3 (+bias):"
  for threads in 1 2; do "$work/time_artifact" "$dir/m.so" $threads 50 "$gflop"; done
done

dir=$work/bert_base
if [ -n "$state" ]; then from="--from-state-dict $state"; else from=""; fi
/usr/bin/python3 "$inputs/make_encoder.py" "$dir" --layers 12 --hidden 768 --heads 12 \
  --ffn 3072 --vocab 30522 --seq 128 --batch 1 $from
"$build/bin/tfx-compile" "$dir/model.mlir" --target cpu --emit=so -o "$dir/m" \
  --weights external
/usr/bin/python3 "$inputs/run_artifact.py" "$dir/m.so" "$dir/inputs.safetensors" \
  --check "$dir/reference.safetensors"
echo "BERT-base shape, seq 128 (22.3 GFLOP):"
for threads in 1 2; do "$work/time_artifact" "$dir/m.so" $threads 10 22.3; done
