#!/usr/bin/env bash
# Configures and builds tfx in ./build (Release, Ninja, ccache when present).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
# ccache keyed on paths relative to the checkout, so that every clone of the
# project on this machine shares one cache.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -G Ninja -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit "$@"
ninja -C "$BUILD_DIR"
