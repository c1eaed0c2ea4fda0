//===- CpuBackend.h - tfx-run --backend cpu -------------------*- C++ -*-===//
//
// Runs a model as native code through libtfxrt: an existing shared-object
// artifact is opened directly; a model (folder, .onnx, .mlir) is first
// compiled in process into a temporary shared object.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_TOOLS_TFX_RUN_CPUBACKEND_H
#define TFX_TOOLS_TFX_RUN_CPUBACKEND_H

#include "tfx/Frontend/Frontend.h"
#include "tfx/Support/Tensor.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <string>

namespace mlir::tfx {

/// The options only the CPU backend reads (--bench), for
/// cl::HideUnrelatedOptions.
llvm::cl::OptionCategory &cpuBackendOptions();

/// Threads of the runtime's pool (0 = the cores available). Set by the
/// driver from --threads, which it parses itself: libLLVM already owns a
/// cl::opt of that name.
void setCpuThreads(int threads);

int cpuThreads();

/// `--backend cuda`: models are compiled with --target cuda (sm_90) and an
/// artifact must be a CUDA one; runs go through the same runtime calls.
void setCudaBackend(bool cuda);

/// The shared-object artifact for MODEL: MODEL itself when it is one,
/// else MODEL compiled in process into a new temporary folder `tempDir`
/// (the caller removes it) — as a decoder's generation entries with
/// `steps`.
llvm::Expected<std::string> artifactFor(llvm::StringRef modelPath,
                                        const ImportOptions &importOptions,
                                        const DecoderStepOptions *steps,
                                        llvm::SmallString<128> &tempDir);

/// Runs MODEL's entry (`main`, else the first) on `inputs` by name and
/// returns its outputs by name. Inputs the entry does not take are noted on
/// `diag` and ignored. With --bench N, times N more runs after a warm-up and
/// prints "median <x> ms" on `os`.
llvm::Expected<std::map<std::string, Tensor>>
runOnCpu(llvm::StringRef modelPath, const ImportOptions &importOptions,
         std::map<std::string, Tensor> inputs, llvm::raw_ostream &os,
         llvm::raw_ostream &diag);

} // namespace mlir::tfx

#endif // TFX_TOOLS_TFX_RUN_CPUBACKEND_H
