# -*- Python -*-
import os
import shutil

import lit.formats
from lit.llvm import llvm_config

config.name = "tfx"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tfx_obj_root, "test")
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt", "Inputs", "corpus", "regressions",
                   "models", "unit", "e2e_helpers"]

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.tfx_tools_dir, append_path=True)

config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%models", config.tfx_models_dir))
config.substitutions.append(("%shared_models", config.tfx_shared_models_dir))
config.substitutions.append(("%src", config.tfx_src_root))

if os.path.isdir(config.tfx_shared_models_dir):
    config.available_features.add("shared-models")
if os.path.isdir(config.tfx_models_dir):
    config.available_features.add("tfx-models")

# Runtime and bad-input tests: the hand-written artifacts built by
# test/Runtime/CMakeLists.txt and the build tree's CMake package.
config.substitutions.append(
    ("%rt_artifacts", os.path.join(config.tfx_obj_root, "test", "Runtime", "artifacts")))
config.substitutions.append(("%tfx_build", config.tfx_obj_root))

# The CPU-feature refusal tests need a machine without AMX.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        flags = cpuinfo.read()
    if " avx2" in flags and " amx_tile" not in flags:
        config.available_features.add("x86_64-host-without-amx")
except OSError:
    pass

# Tests that compile real models need tfx-compile's CPU target.
import subprocess

try:
    help_text = subprocess.run(
        [os.path.join(config.tfx_tools_dir, "tfx-compile"), "--help"],
        capture_output=True, text=True, timeout=60).stdout
    if "--target" in help_text:
        config.available_features.add("tfx-cpu-codegen")
except (OSError, subprocess.SubprocessError):
    pass

# The cuda target assembles its kernels with the CUDA toolkit's ptxas; the
# tests that serialize kernels need one (no GPU is needed to compile).
cuda_path = os.environ.get("CUDA_PATH", "/usr/local/cuda")
if os.access(os.path.join(cuda_path, "bin", "ptxas"), os.X_OK) or shutil.which("ptxas"):
    config.available_features.add("ptxas")
# A GPU with its driver: only then do CUDA artifacts run.
import ctypes.util

if ctypes.util.find_library("cuda"):
    config.available_features.add("cuda-driver")
