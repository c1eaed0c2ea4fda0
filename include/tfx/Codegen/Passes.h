//===- Passes.h - code generation passes ------------------------*- C++ -*-===//
#ifndef TFX_CODEGEN_PASSES_H
#define TFX_CODEGEN_PASSES_H

#include "mlir/Pass/Pass.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir {
class DialectRegistry;
class OpPassManager;
} // namespace mlir

namespace mlir::tfx {

#define GEN_PASS_DECL
#include "codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/Passes.h.inc"

/// Options of the CPU pipeline from tfx to the LLVM dialect.
struct CpuPipelineOptions {
  /// Use the tiled/vectorized kernels (GEMM, attention, norms).
  bool kernels = true;
  /// f32 lanes of the target's widest vectors (16: AVX-512, 8: AVX2, 4: SSE).
  int64_t vectorWidth = 16;
  /// AVX-512 VNNI: int8 GEMMs for linears with quantized activations.
  bool vnni = false;
  /// Linalg ops with fewer loop iterations run sequentially.
  int64_t parallelMinWork = 32768;
};

/// One-shot bufferization of entry bodies, then every top-level buffer in
/// the scratch arena (shared by the CPU and CUDA pipelines).
void addBufferizePasses(OpPassManager &pm);

/// tfx (static shapes) -> LLVM dialect, entry wrappers included.
void buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &options);

/// Options of the CUDA pipeline from tfx to the LLVM dialect.
struct GpuPipelineOptions {
  /// The NVIDIA chip the cubin is for ("sm_90", "sm_90a", "sm_80", ...).
  std::string chip = "sm_90";
  /// The CUDA toolkit whose ptxas assembles the PTX ("" finds one).
  std::string toolkitPath;
  /// Inputs of f32 contractions: "f32", or "f16" on the tensor cores.
  std::string matmulPrecision = "f32";
  /// Serialize the kernels and lower the launches (off: stop at the LLVM
  /// dialect with the gpu.module still in place, for tests).
  bool serialize = true;
};

/// The CUDA toolkit whose bin/ptxas assembles kernels: `requested`, else
/// $CUDA_PATH, /usr/local/cuda or the folder above a ptxas on PATH.
llvm::Expected<std::string> findCudaToolkit(llvm::StringRef requested);

/// tfx (static shapes) -> LLVM dialect with an embedded cubin.
void buildGpuPipeline(OpPassManager &pm, const GpuPipelineOptions &options);

/// Registers the passes above and the pipeline `tfx-cpu-codegen`.
void registerCodegenPasses();

/// Dialects (and their interfaces: bufferization, LLVM translation) that
/// the code generators create.
void registerCodegenDialects(DialectRegistry &registry);

} // namespace mlir::tfx

#endif // TFX_CODEGEN_PASSES_H
