//===- Report.h - the fidelity report of a compressed model -----*- C++ -*-===//
//
// `tfx-compile --report FILE`: what the compression passes did to each
// linear layer (bits, groups, activations, bytes), the size of the whole
// model before and after, and how far the compressed model's outputs lie
// from the float model's on the calibration set and on a held-out set
// (max/mean abs error, cosine, relative L2, top-1 agreement and, for
// language models, perplexity), both run on the reference interpreter.
// Markdown, or JSON when FILE ends in .json.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_PASSES_REPORT_H
#define TFX_PASSES_REPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir::tfx {

struct ReportOptions {
  /// What was compressed and how, for the report's header.
  std::string model, recipe;
  /// Input sets (.safetensors as for calibration); either may be empty.
  std::string calibrationPath, heldOutPath;
  /// Batches of each set to run (0: all).
  int64_t calibrationBatches = 8, heldOutBatches = 0;
};

/// Compares `compressed` with `original` (the module before the passes)
/// and returns the report, Markdown or (`json`) JSON.
llvm::Expected<std::string> compressionReport(ModuleOp original, ModuleOp compressed,
                                              const ReportOptions &options, bool json);

} // namespace mlir::tfx

#endif // TFX_PASSES_REPORT_H
