//===- Generate.h - tfx-run --generate and --serve-bench ------*- C++ -*-===//
#ifndef TFX_TOOLS_TFX_RUN_GENERATE_H
#define TFX_TOOLS_TFX_RUN_GENERATE_H

#include "tfx/Frontend/Frontend.h"

#include "llvm/Support/CommandLine.h"

namespace mlir::tfx {

llvm::cl::OptionCategory &generateOptions();

/// Whether the command line asks for generation (--generate,
/// --serve-bench) rather than one run on --inputs.
bool generationRequested();

/// Runs the generation the options describe on MODEL; returns the exit
/// code.
int runGeneration(llvm::StringRef modelPath, const ImportOptions &importOptions);

} // namespace mlir::tfx

#endif // TFX_TOOLS_TFX_RUN_GENERATE_H
