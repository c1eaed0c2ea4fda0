//===- Frontend.h - import models into the tfx dialect ----------*- C++ -*-===//
#ifndef TFX_FRONTEND_FRONTEND_H
#define TFX_FRONTEND_FRONTEND_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

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
};

/// ONNX file -> tfx module (lib/Frontend/ONNX).
mlir::OwningOpRef<mlir::ModuleOp> importONNX(llvm::StringRef path,
                                             mlir::MLIRContext &ctx,
                                             const ImportOptions &options);

/// Hugging Face folder (config.json + model.safetensors) -> tfx module
/// (lib/Frontend/SafeTensors).
mlir::OwningOpRef<mlir::ModuleOp> importHuggingFace(llvm::StringRef dir,
                                                    mlir::MLIRContext &ctx,
                                                    const ImportOptions &options);

/// Dispatches on the path: a folder, an .onnx file or an .mlir file.
/// Errors are reported through the context's diagnostic handler; returns
/// null on failure.
mlir::OwningOpRef<mlir::ModuleOp> importModel(llvm::StringRef path,
                                              mlir::MLIRContext &ctx,
                                              const ImportOptions &options);

/// Registers every dialect a tfx module may contain.
void registerTfxDialects(mlir::DialectRegistry &registry);

} // namespace mlir::tfx

#endif // TFX_FRONTEND_FRONTEND_H
