//===- Passes.h - tfx passes ------------------------------------*- C++ -*-===//
#ifndef TFX_PASSES_PASSES_H
#define TFX_PASSES_PASSES_H

#include "tfx/Dialect/Tfx.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/Support/Error.h"

namespace mlir::tfx {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Registers the named pipelines (see Pipelines.cpp).
void registerTfxPipelines();

/// The pass pipeline of a quantization scheme named as on tfx-compile's
/// command line: `w8` or `w4`, then optionally `-g<N>` (input channels per
/// scale; w8 defaults to one scale per output channel, w4 to groups of
/// 128) and `-gptq` (needs `calibration`). E.g. `w4-g128-gptq`. `w8a8`
/// quantizes activations too (per row at run time); `-static` fixes one
/// calibrated scale per layer input, `-asym` makes it uint8 with a zero
/// point, `-mse` or `-pct<P>` choose the range, and `-sq[<alpha>]` runs
/// SmoothQuant first. E.g. `w8a8-static-asym-mse-sq0.5`. `-emb` also
/// stores the embedding tables as int8 (any scheme).
/// `maxError` > 0 adds the mixed-precision search to that budget (the
/// outputs' relative L2 error on the calibration data).
llvm::Expected<std::string> quantizationPipeline(llvm::StringRef scheme,
                                                 llvm::StringRef calibration,
                                                 double maxError = 0);

/// The pipeline of a plan file that tfx-auto-compress wrote (save-plan),
/// after checking that every linear it names is in `module` with the shape
/// it had there. Running it on the same model reproduces the plan's model.
llvm::Expected<std::string> planPipeline(llvm::StringRef path, mlir::ModuleOp module);

} // namespace mlir::tfx

#endif // TFX_PASSES_PASSES_H
