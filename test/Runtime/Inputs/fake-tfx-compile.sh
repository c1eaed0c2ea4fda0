#!/bin/sh
# Stands in for `tfx-compile MODEL --target cpu --emit=obj --weights W -o OUT`
# in the package test: MODEL is test_artifact.c, compiled into OUT.o with the
# descriptor OUT_artifact, plus OUT.h (and OUT.weights for external weights),
# so that tfx_add_model's plumbing is tested without the code generator.
set -e
here=$(dirname "$0")
model=$1; shift
weights=embed; out=
while [ $# -gt 0 ]; do
  case $1 in
    --weights) weights=$2; shift ;;
    -o) out=$2; shift ;;
    --target|--emit=obj|--cpu=*) ;;
    --target=*) ;;
    cpu) ;;
    *) echo "fake-tfx-compile: unexpected argument $1" >&2; exit 2 ;;
  esac
  shift
done
name=$(basename "$out")
defs="-DTFX_TEST_OBJECT -DTFX_TEST_SYMBOL=${name}_artifact"
if [ "$weights" = external ]; then
  defs="$defs -DTFX_TEST_EXTERNAL -DTFX_TEST_WEIGHTS_FILE=\"$name.weights\""
  /usr/bin/python3 "$here/write_weights.py" "$out.weights"
fi
cc -std=c99 -c $defs -I "$here/../../../runtime/include" "$model" -o "$out.o"
cat > "$out.h" <<HEADER
#include "tfx/artifact.h"
extern const tfx_artifact ${name}_artifact;
HEADER
