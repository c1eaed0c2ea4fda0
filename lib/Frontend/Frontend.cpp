//===- Frontend.cpp - choose a frontend by path ---------------------------===//

#include "tfx/Frontend/Frontend.h"
#include "tfx/Dialect/Tfx.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::tfx;

void mlir::tfx::registerTfxDialects(DialectRegistry &registry) {
  registry.insert<TfxDialect, arith::ArithDialect, func::FuncDialect, quant::QuantDialect>();
}

OwningOpRef<ModuleOp> mlir::tfx::importModel(llvm::StringRef path, MLIRContext &ctx,
                                       const ImportOptions &options) {
  Location loc = FileLineColLoc::get(&ctx, path, 0, 0);
  if (!llvm::sys::fs::exists(path)) {
    emitError(loc) << "no such file or folder: " << path;
    return nullptr;
  }
  if (llvm::sys::fs::is_directory(path))
    return importHuggingFace(path, ctx, options);
  llvm::StringRef ext = llvm::sys::path::extension(path);
  if (ext == ".onnx")
    return importONNX(path, ctx, options);
  if (ext == ".mlir" || ext == ".mlirbc") {
    DialectRegistry registry;
    registerTfxDialects(registry);
    ctx.appendDialectRegistry(registry);
    return parseSourceFile<ModuleOp>(path, &ctx);
  }
  emitError(loc) << "unrecognised model '" << path
                 << "': expected a Hugging Face folder (config.json + "
                    "model.safetensors), an .onnx file or an .mlir file";
  return nullptr;
}
