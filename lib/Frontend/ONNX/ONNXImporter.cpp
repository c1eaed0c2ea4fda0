// Placeholder until the ONNX importer lands.
#include "tfx/Frontend/Frontend.h"
#include "mlir/IR/Diagnostics.h"
using namespace mlir;
OwningOpRef<ModuleOp> mlir::tfx::importONNX(llvm::StringRef path, MLIRContext &ctx,
                                      const ImportOptions &) {
  emitError(FileLineColLoc::get(&ctx, path, 0, 0)) << "ONNX import not built";
  return nullptr;
}
