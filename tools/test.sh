#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: lit (dialect, frontends,
# passes, end-to-end numerics) and the GoogleTest unit tests, then the
# sanitizer job and the fuzz job.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install-deps.sh
./tools/build.sh
ninja -C build check-tfx
# The sanitizer job (ASan+UBSan) for the runtime and the frontends.
./tools/sanitize.sh
# The fuzz job: every libFuzzer target for 60 s (clang-22, build-fuzz/).
./tools/fuzz.sh 60
