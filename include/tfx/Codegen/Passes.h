//===- Passes.h - code generation passes ------------------------*- C++ -*-===//
#ifndef TFX_CODEGEN_PASSES_H
#define TFX_CODEGEN_PASSES_H

#include "mlir/Pass/Pass.h"

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

/// tfx (static shapes) -> LLVM dialect, entry wrappers included.
void buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &options);

/// Registers the passes above and the pipeline `tfx-cpu-codegen`.
void registerCodegenPasses();

/// Dialects (and their interfaces: bufferization, LLVM translation) that
/// the code generators create.
void registerCodegenDialects(DialectRegistry &registry);

} // namespace mlir::tfx

#endif // TFX_CODEGEN_PASSES_H
