//===- Frontend.h - import models into the tfx dialect ----------*- C++ -*-===//
#ifndef TFX_FRONTEND_FRONTEND_H
#define TFX_FRONTEND_FRONTEND_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace mlir::tfx {

struct ImportOptions {
  /// Sizes for symbolic ONNX dimensions, by dim_param name ("batch", "seq").
  llvm::StringMap<int64_t> dims;
  /// Static input shapes by input name; override `dims`.
  llvm::StringMap<std::vector<int64_t>> inputShapes;
  /// Default for symbolic dims not named above; 0 means "error".
  int64_t defaultBatch = 1, defaultSeq = 16;
  /// Run the raising pipeline after import (ONNX).
  bool raise = true;
  /// Hugging Face decoders: keep only the first this many layers (0 = all),
  /// e.g. to make a draft model for speculative decoding.
  int64_t keepLayers = 0;
};

/// ONNX file -> tfx module (lib/Frontend/ONNX).
mlir::OwningOpRef<mlir::ModuleOp> importONNX(llvm::StringRef path,
                                             mlir::MLIRContext &ctx,
                                             const ImportOptions &options);
/// The same for a model already in memory; `path` names it in messages and
/// locates external data (relative to its folder).
mlir::OwningOpRef<mlir::ModuleOp> importONNXBytes(llvm::StringRef bytes,
                                                  llvm::StringRef path,
                                                  mlir::MLIRContext &ctx,
                                                  const ImportOptions &options);

/// Hugging Face folder (config.json + model.safetensors) -> tfx module
/// (lib/Frontend/SafeTensors).
mlir::OwningOpRef<mlir::ModuleOp> importHuggingFace(llvm::StringRef dir,
                                                    mlir::MLIRContext &ctx,
                                                    const ImportOptions &options);
/// The same for config.json text and the tensors of the weight file(s) by
/// name and shape; `configPath` names the config in messages, `weightsPath`
/// becomes the module's `tfx.weights`.
mlir::OwningOpRef<mlir::ModuleOp> importHuggingFaceConfig(
    llvm::StringRef configText, llvm::StringRef configPath,
    llvm::StringRef weightsPath,
    const llvm::StringMap<std::vector<int64_t>> &tensorShapes,
    mlir::MLIRContext &ctx, const ImportOptions &options);

/// Dispatches on the path: a folder, an .onnx file or an .mlir file.
/// Errors are reported through the context's diagnostic handler; returns
/// null on failure.
mlir::OwningOpRef<mlir::ModuleOp> importModel(llvm::StringRef path,
                                              mlir::MLIRContext &ctx,
                                              const ImportOptions &options);

/// The step entries of a decoder compiled for generation (tfx-kv-cache).
struct DecoderStepOptions {
  /// Tokens per cache block; tokens one sequence may hold (0: the learned
  /// position table, else 1024); blocks of the shared pool (0: enough for
  /// the largest decode batch at full context).
  int64_t blockSize = 16, context = 0, blocks = 0;
  /// `prefill`: one sequence, this many tokens per call (a chunk).
  int64_t prefillTokens = 16;
  /// `decode`: one new token for the largest of these batch sizes; the
  /// others as `decode_b<N>`.
  std::vector<int64_t> decodeBatches = {1};
  /// `verify` (speculative decoding): one sequence, this many tokens; 0
  /// for none.
  int64_t verifyTokens = 0;
  /// A pass pipeline (tfx-opt syntax, e.g. compression) run on each step
  /// import before it becomes a cached step.
  std::string passes;
};

/// Imports the decoder at `path` once per step shape, turns each into a
/// cached step (tfx-kv-cache) and returns one module with the entries
/// `prefill`, `decode`, `decode_b<N>` and `verify`, all over one cache
/// pool. Errors go to the context's diagnostic handler; null on failure.
mlir::OwningOpRef<mlir::ModuleOp>
importDecoderSteps(llvm::StringRef path, mlir::MLIRContext &ctx,
                   const ImportOptions &options,
                   const DecoderStepOptions &steps);

/// Registers every dialect a tfx module may contain.
void registerTfxDialects(mlir::DialectRegistry &registry);

} // namespace mlir::tfx

#endif // TFX_FRONTEND_FRONTEND_H
