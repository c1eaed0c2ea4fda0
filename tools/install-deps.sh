#!/usr/bin/env bash
# Installs what tfx needs on Debian 12: LLVM/MLIR 22, Protobuf, ONNX's schema,
# GoogleTest, and Python with PyTorch/ONNX for making test models.
set -euo pipefail
packages=(
  cmake ninja-build ccache g++ git
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22 libclang-rt-22-dev lld-22
  liblld-22-dev libprotobuf-dev protobuf-compiler libonnx-dev
  libgtest-dev
  python3 python3-numpy python3-torch python3-onnx libopenblas0-pthread
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
