//===- Evaluate.h - tfx-run --perplexity -----------------------*- C++ -*-===//
//
// Held-out evaluation of a language model: perplexity over rows of token ids
// and, against a second (float) model, top-1 agreement of their logits.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_TOOLS_TFX_RUN_EVALUATE_H
#define TFX_TOOLS_TFX_RUN_EVALUATE_H

#include "tfx/Frontend/Frontend.h"
#include "tfx/Support/Tensor.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <string>

namespace mlir::tfx {

/// Runs the model at a path on named inputs (the backend tfx-run chose).
using RunModelFn = llvm::function_ref<llvm::Expected<
    std::map<std::string, Tensor>>(llvm::StringRef modelPath,
                                   const ImportOptions &options,
                                   std::map<std::string, Tensor> inputs)>;

/// Reads `input_ids` (or `input.input_ids`) [rows, seq] from `tokensPath`,
/// keeps the first `maxRows` rows (all when 0), runs `modelPath` (and
/// `comparePath` when not empty) on them with an all-ones attention mask
/// where the model takes one, and prints perplexity (and top-1 agreement,
/// largest logit difference, the reference's perplexity) on `os`.
llvm::Error evaluatePerplexity(llvm::StringRef modelPath,
                               llvm::StringRef comparePath,
                               llvm::StringRef tokensPath, int64_t maxRows,
                               ImportOptions options, RunModelFn run,
                               llvm::raw_ostream &os);

} // namespace mlir::tfx

#endif // TFX_TOOLS_TFX_RUN_EVALUATE_H
